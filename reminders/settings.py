"""Configuration, read once from the environment (and `.env`) into a frozen, typed object.

A mistake fails at start with one line naming the variable (`ConfigError`), never mid-send.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import time
from pathlib import Path
from typing import Any

from reminders.settings_files import PROJECT_ROOT, load_dotenv_file, remembered_redis_url
from reminders.settings_parse import (
    ConfigError,
    _as_given,
    _bool,
    _broker_url,
    _ca_file,
    _carrier_map,
    _carrier_mix,
    _email_address,
    _float,
    _hhmm,
    _int,
    _one_of,
    _path,
    _ranged,
    _redis_url,
    _replicas,
    _shared_keys,
    _text,
    _timezone,
    _url,
    _weekday,
    check_secret,
    console_secret,
)

# Fallback used when nothing is configured and the phone number gives no zone.
FALLBACK_TIMEZONE = "America/New_York"


@dataclass(frozen=True)
class Settings:
    redis_url: str = "redis://127.0.0.1:6379/0"
    # sentinel:// URLs: the Sentinel-managed master (a broker's may have a name of its own).
    redis_sentinel_master: str = ""
    celery_broker_url: str = ""  # empty: REDIS_URL (the data Redis is the broker)
    celery_broker_sentinel_master: str = ""  # empty: REDIS_SENTINEL_MASTER
    # Failover-critical writes wait for this many replicas (None: auto; storage/replicas.py).
    redis_min_replicas_ack: int | None = None
    redis_wait_timeout_ms: int = 500
    sms_backend: str = "console"
    twilio_account_sid: str = ""
    twilio_auth_token: str = ""
    twilio_from_number: str = ""
    twilio_messaging_service_sid: str = ""
    # Webhook SharedKeys (X-Twilio-Webhooks-Signature-Settings): (key id, secret) pairs.
    twilio_webhook_shared_keys: tuple[tuple[str, str], ...] = ()
    twilio_api_url: str = "https://api.twilio.com"
    twilio_mps: float = 1.0
    # US 10DLC carrier limits (capacity forecast): segments a day per carrier (T-Mobile's daily
    # cap per brand), segments a second per carrier (AT&T's per-campaign rate), and the share
    # of the numbers on each carrier (default: an estimate from national market shares).
    carrier_daily_caps: tuple[tuple[str, float], ...] = ()
    carrier_mps: tuple[tuple[str, float], ...] = ()
    carrier_mix: tuple[tuple[str, float], ...] = (("verizon", 0.35), ("tmobile", 0.33),
                                                  ("att", 0.32))
    # Provider requests one worker keeps in flight (SEND_CONCURRENCY); 0: sized from TWILIO_MPS.
    send_concurrency_setting: int = 0
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
    # Weekday (date.weekday(): 0 Monday .. 6 Sunday) of the weekly progress text.
    weekly_summary_day: int = 6
    # How long an operator's console login lasts (hours), from the login on.
    console_session_hours: int = 8
    # Local state: the beat schedule, and redis.url (the Redis `make run` uses).
    state_dir: Path = field(default_factory=lambda: PROJECT_ROOT / "var")
    metrics_token: str = ""  # empty: /metrics is open (bind it privately then)

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
    def send_concurrency(self) -> int:
        """In-flight sends per worker: TWILIO_MPS x Twilio's usual 0.5 s per creation (Little's
        law), at least 4, at most the ~100 concurrent requests Twilio allows an account."""
        if self.send_concurrency_setting:
            return self.send_concurrency_setting
        return max(4, min(100, math.ceil(self.twilio_mps * 0.5)))

    @property
    def broker_url(self) -> str:  # CELERY_BROKER_URL, else the data Redis
        return self.celery_broker_url or self.redis_url

    @property
    def broker_sentinel_master(self) -> str:
        return self.celery_broker_sentinel_master or self.redis_sentinel_master

    @property
    def console_mode(self) -> bool:
        return self.sms_backend == "console" and self.email_backend == "console"

    @property
    def fallback_timezone(self) -> str:
        return self.default_timezone or FALLBACK_TIMEZONE


@dataclass(frozen=True)
class Variable:
    """One environment variable: the Settings field it sets (None: read elsewhere, e.g.
    LOG_LEVEL in logs.py) and how its text is checked and converted."""

    name: str
    field: str | None
    parse: Callable[[str, str], Any] = _text


# Every variable the service reads, once. The compose file and .env.example are checked against
# these names by tests/test_deploy.py.
VARIABLES = (
    Variable("REDIS_URL", "redis_url", _redis_url),
    Variable("REDIS_SENTINEL_MASTER", "redis_sentinel_master"),
    Variable("CELERY_BROKER_URL", "celery_broker_url", _broker_url),
    Variable("CELERY_BROKER_SENTINEL_MASTER", "celery_broker_sentinel_master"),
    Variable("REDIS_MIN_REPLICAS_ACK", "redis_min_replicas_ack", _replicas),
    Variable("REDIS_WAIT_TIMEOUT_MS", "redis_wait_timeout_ms", _ranged(_int, 1, 60000)),
    Variable("PUBLIC_URL", "public_url", _url),
    Variable("SECRET_KEY", "secret_key", _as_given),
    Variable("OUTBOX_DIR", "outbox_dir", _path),
    Variable("TEMPLATES_DIR", "templates_dir", _path),
    Variable("LATE_LIMIT_MINUTES", "late_limit_minutes", _ranged(_int, 1, 600)),
    Variable("DISPATCH_INTERVAL_SECONDS", "dispatch_interval_seconds",
             _ranged(_float, 0.2, 3600)),
    Variable("DISPATCH_BATCH_SIZE", "dispatch_batch_size", _ranged(_int, 1, 100000)),
    Variable("BROKER_VISIBILITY_TIMEOUT", "broker_visibility_timeout", _ranged(_int, 1, 86400)),
    Variable("OPT_OUT_HANDLED_BY", "opt_out_handled_by", _one_of("twilio", "app")),
    Variable("TWILIO_ACCOUNT_SID", "twilio_account_sid"),
    Variable("TWILIO_AUTH_TOKEN", "twilio_auth_token"),
    Variable("TWILIO_FROM_NUMBER", "twilio_from_number"),
    Variable("TWILIO_MESSAGING_SERVICE_SID", "twilio_messaging_service_sid"),
    Variable("TWILIO_WEBHOOK_SHARED_KEYS", "twilio_webhook_shared_keys",
             _shared_keys),
    Variable("SMS_BACKEND", "sms_backend", _one_of("twilio", "console")),
    Variable("TWILIO_API_URL", "twilio_api_url", _url),
    Variable("TWILIO_MPS", "twilio_mps", _ranged(_float, 0.01, 10000)),
    Variable("CARRIER_DAILY_CAPS", "carrier_daily_caps", _carrier_map),
    Variable("CARRIER_MPS", "carrier_mps", _carrier_map),
    Variable("CARRIER_MIX", "carrier_mix", _carrier_mix),
    Variable("SEND_CONCURRENCY", "send_concurrency_setting", _ranged(_int, 1, 1000)),
    Variable("TWILIO_TIMEOUT_SECONDS", "twilio_timeout_seconds", _ranged(_float, 0.1, 120)),
    Variable("SMS_MAX_SEGMENTS", "sms_max_segments", _ranged(_int, 1, 10)),
    Variable("SMS_RECHECK_SECONDS", "sms_recheck_seconds", _ranged(_int, 1, 36000)),
    Variable("SMTP_HOST", "smtp_host"),
    Variable("EMAIL_BACKEND", "email_backend", _one_of("smtp", "console")),
    Variable("SMTP_PORT", "smtp_port", _ranged(_int, 1, 65535)),
    Variable("SMTP_USERNAME", "smtp_username", _as_given),
    Variable("SMTP_PASSWORD", "smtp_password", _as_given),
    Variable("SMTP_STARTTLS", "smtp_starttls", _bool),
    Variable("SMTP_IMPLICIT_TLS", "smtp_implicit_tls", _bool),
    Variable("SMTP_CA_FILE", "smtp_ca_file", _ca_file),
    Variable("SMTP_TIMEOUT_SECONDS", "smtp_timeout_seconds", _ranged(_float, 0.1, 300)),
    Variable("EMAIL_FROM", "email_from", _email_address),
    Variable("DEFAULT_SEND_TIME", "default_send_time", _hhmm),
    Variable("DEFAULT_TIMEZONE", "default_timezone", _timezone),
    Variable("PROGRAM_NAME", "program_name"),
    Variable("SUPPORT_CONTACT", "support_contact"),
    Variable("WEEKLY_SUMMARY_DAY", "weekly_summary_day", _weekday),
    Variable("CONSOLE_SESSION_HOURS", "console_session_hours", _ranged(_int, 1, 24 * 30)),
    Variable("STATE_DIR", "state_dir", _path),
    Variable("METRICS_TOKEN", "metrics_token", _as_given),
    Variable("LOG_LEVEL", None),
)
KNOWN_VARIABLES = tuple(variable.name for variable in VARIABLES)


def load_settings(environ: Mapping[str, str] | None = None, dotenv: bool = True) -> Settings:
    """Build Settings from `environ` (default: os.environ, then `.env` in the working dir,
    then for REDIS_URL the file `make run` writes: settings_files.py)."""
    from_files = environ is None
    if environ is None:
        if dotenv:
            load_dotenv_file()
        environ = os.environ
    env = {k: v for k, v in environ.items() if v.strip() != ""}
    if from_files and "REDIS_URL" not in env and (remembered := remembered_redis_url(env)):
        env["REDIS_URL"] = remembered
    values: dict[str, object] = {}
    for variable in VARIABLES:
        if variable.field is not None and variable.name in env:
            values[variable.field] = variable.parse(variable.name, env[variable.name])
    _derive(env, values)
    settings = Settings(**values)  # type: ignore[arg-type]
    _check_consistency(settings)
    if settings.console_mode and not settings.secret_key:
        settings = replace(settings, secret_key=console_secret(settings.outbox_dir.parent))
    return settings


def _derive(env: Mapping[str, str], values: dict[str, object]) -> None:
    """Defaults that follow from other variables (the backend follows its credentials)."""
    values.setdefault("sms_backend", "twilio" if values.get("twilio_account_sid") else "console")
    values.setdefault("email_backend", "smtp" if values.get("smtp_host") else "console")
    if "SMTP_IMPLICIT_TLS" not in env:
        values["smtp_implicit_tls"] = values.get("smtp_port") == 465  # SMTPS' usual port


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
    _check_sentinel(s)
    check_secret(s.console_mode, s.secret_key)


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


def _check_sentinel(s: Settings) -> None:
    if s.redis_url.startswith("sentinel://") and not s.redis_sentinel_master:
        raise ConfigError("REDIS_SENTINEL_MASTER is required when REDIS_URL is sentinel://")
    if s.broker_url.startswith("sentinel://") and not s.broker_sentinel_master:
        raise ConfigError("CELERY_BROKER_SENTINEL_MASTER (or REDIS_SENTINEL_MASTER) is required "
                          "when CELERY_BROKER_URL is sentinel://")
