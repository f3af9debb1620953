"""Configuration, read once from the environment (and `.env`) into a frozen, typed object.

A mistake fails at start with one line naming the variable (`ConfigError`), never later in
the middle of a send.
"""

from __future__ import annotations

import os
import re
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Fallback used when nothing is configured and the phone number gives no zone.
FALLBACK_TIMEZONE = "America/New_York"


# Every variable the service reads (settings below, plus LOG_LEVEL in logs.py). The compose
# file and .env.example are checked against this list by tests/test_deploy.py.
KNOWN_VARIABLES = (
    "REDIS_URL", "SMS_BACKEND", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER",
    "TWILIO_MESSAGING_SERVICE_SID", "TWILIO_API_URL", "TWILIO_MPS", "TWILIO_TIMEOUT_SECONDS",
    "OPT_OUT_HANDLED_BY", "EMAIL_BACKEND", "SMTP_HOST", "SMTP_PORT", "SMTP_USERNAME",
    "SMTP_PASSWORD", "SMTP_STARTTLS", "SMTP_IMPLICIT_TLS", "SMTP_TIMEOUT_SECONDS", "EMAIL_FROM",
    "SMTP_CA_FILE",
    "PUBLIC_URL", "SECRET_KEY", "DEFAULT_SEND_TIME", "DEFAULT_TIMEZONE", "SMS_MAX_SEGMENTS",
    "LATE_LIMIT_MINUTES", "PROGRAM_NAME", "SUPPORT_CONTACT", "OUTBOX_DIR", "TEMPLATES_DIR",
    "DISPATCH_INTERVAL_SECONDS", "DISPATCH_BATCH_SIZE", "BROKER_VISIBILITY_TIMEOUT", "LOG_LEVEL",
    "TWILIO_WEBHOOK_SHARED_KEYS", "SMS_RECHECK_SECONDS",
)


class ConfigError(ValueError):
    """A configuration variable is missing or invalid; the message names it."""


@dataclass(frozen=True)
class Settings:
    redis_url: str = "redis://127.0.0.1:6379/0"
    sms_backend: str = "console"
    twilio_account_sid: str = ""
    twilio_auth_token: str = ""
    twilio_from_number: str = ""
    twilio_messaging_service_sid: str = ""
    # Webhook SharedKeys (X-Twilio-Webhooks-Signature-Settings): (key id, secret) pairs.
    twilio_webhook_shared_keys: tuple[tuple[str, str], ...] = ()
    twilio_api_url: str = "https://api.twilio.com"
    twilio_mps: float = 1.0
    twilio_timeout_seconds: float = 10.0
    # After a Twilio call whose answer was lost, how long the message is looked for at Twilio
    # before it is sent again (its list can lag behind a create).
    sms_recheck_seconds: int = 120
    opt_out_handled_by: str = "twilio"
    email_backend: str = "console"
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = True
    smtp_implicit_tls: bool = False  # SMTPS (usually port 465) instead of STARTTLS
    smtp_timeout_seconds: float = 20.0
    # PEM file of the CA certificates that may sign the SMTP server's certificate (a relay with
    # a private CA); None: the system's store.
    smtp_ca_file: Path | None = None
    email_from: str = "reminders@localhost"
    public_url: str = "http://127.0.0.1:8000"
    secret_key: str = ""
    default_send_time: time = time(20, 0)
    default_timezone: str = ""  # empty: infer from the phone number, else FALLBACK_TIMEZONE
    sms_max_segments: int = 2
    late_limit_minutes: int = 90
    program_name: str = "Foot Care Reminders"
    support_contact: str = ""
    outbox_dir: Path = field(default_factory=lambda: PROJECT_ROOT / "var" / "outbox")
    templates_dir: Path = field(default_factory=lambda: PROJECT_ROOT / "templates")
    # How often beat ticks the dispatcher. The contract says every minute; tests shorten it.
    dispatch_interval_seconds: float = 60.0
    # How many due subscribers one claim takes from the index at a time.
    dispatch_batch_size: int = 500

    # Unacknowledged Celery tasks (a killed worker's) come back after this many seconds.
    broker_visibility_timeout: int = 0  # 0: derived from the late limit (see below)

    @property
    def send_lease_seconds(self) -> float:
        """How long one send attempt owns a night: longer than any single provider call."""
        timeouts = [self.twilio_timeout_seconds if self.sms_backend == "twilio" else 0.0,
                    self.smtp_timeout_seconds if self.email_backend == "smtp" else 0.0]
        return max(15.0, 3 * max(timeouts) + 5)

    @property
    def visibility_timeout(self) -> int:
        if self.broker_visibility_timeout:
            return self.broker_visibility_timeout
        return int(min(300, self.late_limit_minutes * 60 // 3))

    @property
    def console_mode(self) -> bool:
        return self.sms_backend == "console" and self.email_backend == "console"

    @property
    def fallback_timezone(self) -> str:
        return self.default_timezone or FALLBACK_TIMEZONE


_BOOL_TRUE = {"1", "true", "yes", "on"}
_BOOL_FALSE = {"0", "false", "no", "off"}


def _bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in _BOOL_TRUE:
        return True
    if value in _BOOL_FALSE:
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def _int(name: str, raw: str, low: int, high: int) -> int:
    try:
        value = int(raw.strip())
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low} and {high}, got {value}")
    return value


def _float(name: str, raw: str, low: float, high: float) -> float:
    try:
        value = float(raw.strip())
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low} and {high}, got {value}")
    return value


def _choice(name: str, raw: str, allowed: tuple[str, ...]) -> str:
    value = raw.strip().lower()
    if value not in allowed:
        raise ConfigError(f"{name} must be one of {', '.join(allowed)}, got {raw!r}")
    return value


_HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def _hhmm(name: str, raw: str) -> time:
    match = _HHMM.match(raw.strip())
    if not match:
        raise ConfigError(f"{name} must be HH:MM (24-hour), got {raw!r}")
    return time(int(match.group(1)), int(match.group(2)))


def _timezone(name: str, raw: str) -> str:
    value = raw.strip()
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{name} is not a known IANA time zone: {raw!r}") from None
    return value


def _url(name: str, raw: str) -> str:
    value = raw.strip().rstrip("/")
    if not re.match(r"^https?://[^/\s]+", value):
        raise ConfigError(f"{name} must be an http(s) URL, got {raw!r}")
    return value


def _email_address(name: str, raw: str) -> str:
    value = raw.strip()
    if not re.match(r"^[^@\s]+@[^@\s]+$", value):
        raise ConfigError(f"{name} must be an email address, got {raw!r}")
    return value


def _ca_file(name: str, raw: str) -> Path:
    path = Path(raw.strip()).expanduser()
    try:
        ssl.create_default_context(cafile=str(path))
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"{name} must be a PEM file of CA certificates, got {raw!r}: "
                          f"{getattr(exc, 'strerror', None) or exc}") from None
    return path


def _shared_keys(name: str, raw: str) -> tuple[tuple[str, str], ...]:
    pairs = []
    for item in raw.split(","):
        key_id, separator, secret = item.strip().partition("=")
        if not (separator and key_id.strip() and secret.strip()):
            raise ConfigError(f"{name} must be KEY_ID=SECRET pairs separated by commas")
        pairs.append((key_id.strip(), secret.strip()))
    return tuple(pairs)


def _redis_url(name: str, raw: str) -> str:
    value = raw.strip()
    if not re.match(r"^(redis|rediss|unix)://", value):
        raise ConfigError(f"{name} must start with redis://, rediss:// or unix://, got {raw!r}")
    return value


def load_settings(environ: Mapping[str, str] | None = None, dotenv: bool = True) -> Settings:
    """Build Settings from `environ` (default: os.environ plus `.env` in the working dir)."""
    if environ is None:
        if dotenv:
            _load_dotenv()
        environ = os.environ
    env = {k: v for k, v in environ.items() if v.strip() != ""}
    values: dict[str, object] = {}
    _read_core(env, values)
    _read_twilio(env, values)
    _read_email(env, values)
    _read_content(env, values)
    settings = Settings(**values)  # type: ignore[arg-type]
    _check_consistency(settings)
    return settings


def _load_dotenv() -> None:
    from dotenv import load_dotenv

    # Real environment variables win over the file, as operators expect.
    load_dotenv(Path.cwd() / ".env", override=False)


def _read_core(env: Mapping[str, str], out: dict[str, object]) -> None:
    if "REDIS_URL" in env:
        out["redis_url"] = _redis_url("REDIS_URL", env["REDIS_URL"])
    if "PUBLIC_URL" in env:
        out["public_url"] = _url("PUBLIC_URL", env["PUBLIC_URL"])
    if "SECRET_KEY" in env:
        out["secret_key"] = env["SECRET_KEY"]
    if "OUTBOX_DIR" in env:
        out["outbox_dir"] = Path(env["OUTBOX_DIR"]).expanduser()
    if "LATE_LIMIT_MINUTES" in env:
        out["late_limit_minutes"] = _int("LATE_LIMIT_MINUTES", env["LATE_LIMIT_MINUTES"], 1, 600)
    if "DISPATCH_INTERVAL_SECONDS" in env:
        out["dispatch_interval_seconds"] = _float(
            "DISPATCH_INTERVAL_SECONDS", env["DISPATCH_INTERVAL_SECONDS"], 0.2, 3600
        )
    if "DISPATCH_BATCH_SIZE" in env:
        out["dispatch_batch_size"] = _int(
            "DISPATCH_BATCH_SIZE", env["DISPATCH_BATCH_SIZE"], 1, 100000
        )
    if "BROKER_VISIBILITY_TIMEOUT" in env:
        out["broker_visibility_timeout"] = _int(
            "BROKER_VISIBILITY_TIMEOUT", env["BROKER_VISIBILITY_TIMEOUT"], 1, 86400
        )
    if "OPT_OUT_HANDLED_BY" in env:
        out["opt_out_handled_by"] = _choice(
            "OPT_OUT_HANDLED_BY", env["OPT_OUT_HANDLED_BY"], ("twilio", "app")
        )


def _read_twilio(env: Mapping[str, str], out: dict[str, object]) -> None:
    out["twilio_account_sid"] = env.get("TWILIO_ACCOUNT_SID", "").strip()
    out["twilio_auth_token"] = env.get("TWILIO_AUTH_TOKEN", "").strip()
    out["twilio_from_number"] = env.get("TWILIO_FROM_NUMBER", "").strip()
    out["twilio_messaging_service_sid"] = env.get("TWILIO_MESSAGING_SERVICE_SID", "").strip()
    if "TWILIO_WEBHOOK_SHARED_KEYS" in env:
        out["twilio_webhook_shared_keys"] = _shared_keys(
            "TWILIO_WEBHOOK_SHARED_KEYS", env["TWILIO_WEBHOOK_SHARED_KEYS"])
    default_backend = "twilio" if out["twilio_account_sid"] else "console"
    out["sms_backend"] = _choice(
        "SMS_BACKEND", env.get("SMS_BACKEND", default_backend), ("twilio", "console")
    )
    if "TWILIO_API_URL" in env:
        out["twilio_api_url"] = _url("TWILIO_API_URL", env["TWILIO_API_URL"])
    if "TWILIO_MPS" in env:
        out["twilio_mps"] = _float("TWILIO_MPS", env["TWILIO_MPS"], 0.01, 10000)
    if "TWILIO_TIMEOUT_SECONDS" in env:
        out["twilio_timeout_seconds"] = _float(
            "TWILIO_TIMEOUT_SECONDS", env["TWILIO_TIMEOUT_SECONDS"], 0.1, 120
        )
    if "SMS_MAX_SEGMENTS" in env:
        out["sms_max_segments"] = _int("SMS_MAX_SEGMENTS", env["SMS_MAX_SEGMENTS"], 1, 10)
    if "SMS_RECHECK_SECONDS" in env:
        out["sms_recheck_seconds"] = _int("SMS_RECHECK_SECONDS", env["SMS_RECHECK_SECONDS"], 1,
                                          36000)


def _read_email(env: Mapping[str, str], out: dict[str, object]) -> None:
    out["smtp_host"] = env.get("SMTP_HOST", "").strip()
    default_backend = "smtp" if out["smtp_host"] else "console"
    out["email_backend"] = _choice(
        "EMAIL_BACKEND", env.get("EMAIL_BACKEND", default_backend), ("smtp", "console")
    )
    if "SMTP_PORT" in env:
        out["smtp_port"] = _int("SMTP_PORT", env["SMTP_PORT"], 1, 65535)
    out["smtp_username"] = env.get("SMTP_USERNAME", "")
    out["smtp_password"] = env.get("SMTP_PASSWORD", "")
    if "SMTP_STARTTLS" in env:
        out["smtp_starttls"] = _bool("SMTP_STARTTLS", env["SMTP_STARTTLS"])
    implicit = env.get("SMTP_IMPLICIT_TLS", "true" if out.get("smtp_port") == 465 else "false")
    out["smtp_implicit_tls"] = _bool("SMTP_IMPLICIT_TLS", implicit)
    if "SMTP_TIMEOUT_SECONDS" in env:
        out["smtp_timeout_seconds"] = _float("SMTP_TIMEOUT_SECONDS", env["SMTP_TIMEOUT_SECONDS"],
                                             0.1, 300)
    if "EMAIL_FROM" in env:
        out["email_from"] = _email_address("EMAIL_FROM", env["EMAIL_FROM"])
    if "SMTP_CA_FILE" in env:
        out["smtp_ca_file"] = _ca_file("SMTP_CA_FILE", env["SMTP_CA_FILE"])


def _read_content(env: Mapping[str, str], out: dict[str, object]) -> None:
    if "DEFAULT_SEND_TIME" in env:
        out["default_send_time"] = _hhmm("DEFAULT_SEND_TIME", env["DEFAULT_SEND_TIME"])
    if "DEFAULT_TIMEZONE" in env:
        out["default_timezone"] = _timezone("DEFAULT_TIMEZONE", env["DEFAULT_TIMEZONE"])
    if "PROGRAM_NAME" in env:
        out["program_name"] = env["PROGRAM_NAME"].strip()
    out["support_contact"] = env.get("SUPPORT_CONTACT", "").strip()
    if "TEMPLATES_DIR" in env:
        out["templates_dir"] = Path(env["TEMPLATES_DIR"]).expanduser()


def _check_consistency(s: Settings) -> None:
    """Cross-variable rules: what a backend needs before it can work at all."""
    if s.sms_backend == "twilio":
        for name, value in (
            ("TWILIO_ACCOUNT_SID", s.twilio_account_sid),
            ("TWILIO_AUTH_TOKEN", s.twilio_auth_token),
        ):
            if not value:
                raise ConfigError(f"{name} is required when SMS_BACKEND=twilio")
        if not (s.twilio_from_number or s.twilio_messaging_service_sid):
            raise ConfigError(
                "TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID is required "
                "when SMS_BACKEND=twilio"
            )
        if not s.support_contact:
            raise ConfigError("SUPPORT_CONTACT is required when SMS_BACKEND=twilio")
    if s.email_backend == "smtp":
        if not s.smtp_host:
            raise ConfigError("SMTP_HOST is required when EMAIL_BACKEND=smtp")
        if s.email_from.endswith("@localhost"):
            raise ConfigError("EMAIL_FROM is required when EMAIL_BACKEND=smtp")
    _check_timing(s)
    if not s.console_mode and not s.secret_key:
        raise ConfigError("SECRET_KEY is required outside console mode")


def _check_timing(s: Settings) -> None:
    if s.visibility_timeout >= s.late_limit_minutes * 60:
        raise ConfigError(
            "BROKER_VISIBILITY_TIMEOUT must be shorter than LATE_LIMIT_MINUTES, or a task lost "
            "with a killed worker would only come back after its evening is over"
        )
    if s.visibility_timeout <= s.send_lease_seconds:
        raise ConfigError(
            "BROKER_VISIBILITY_TIMEOUT must be longer than one send attempt "
            f"({s.send_lease_seconds:.0f}s), or running tasks would be handed out twice"
        )
