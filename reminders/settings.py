"""Configuration, read once from the environment (and `.env`) into a frozen, typed object:
pydantic-settings, one declaration per variable (its type, default, range or check).

A mistake fails at start with one line naming the variable (`ConfigError`), never mid-send.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, ValidationError

from reminders import settings_care
from reminders.domain.windows import DEFAULT_WINDOWS, Window, Windows
from reminders.settings_care import CareSettings
from reminders.settings_fields import AsGiven, Checked, GivenSettings, Lower, Text, one_line, var
from reminders.settings_fields import check as checked_by
from reminders.settings_files import PROJECT_ROOT, load_dotenv_file, remembered_redis_url
from reminders.settings_parse import (
    ConfigError,
    _broker_url,
    _ca_file,
    _carrier_map,
    _carrier_mix,
    _email_address,
    _hhmm,
    _path,
    _redis_url,
    _replicas,
    _shared_keys,
    _timezone,
    _url,
    _weekday,
    _windows,
    console_secret,
)
from reminders.settings_rules import check_consistency

__all__ = ["PROJECT_ROOT", "ConfigError", "Settings", "load_settings"]  # what others import

# Fallback used when nothing is configured and the phone number gives no zone.
FALLBACK_TIMEZONE = "America/New_York"


def check(parse: Checked) -> BeforeValidator:
    """One of settings_parse.py's checks as a validator, named by this table's variables."""
    return checked_by(parse, lambda field: _name_of(field))  # _name_of: defined below


class Settings(GivenSettings):
    """Every variable the service reads, once: its type, its default, its check. A bad value is
    one line naming the variable (ConfigError, from pydantic's error: `load_settings`). The
    compose file and .env.example are checked against these names by tests/test_deploy.py."""

    # Defaults are not checked: SEND_CONCURRENCY 0 means "derived".

    redis_url: Annotated[str, var("REDIS_URL"), check(_redis_url)] = "redis://127.0.0.1:6379/0"
    # sentinel:// URLs: the Sentinel-managed master (a broker's may have a name of its own).
    redis_sentinel_master: Annotated[Text, var("REDIS_SENTINEL_MASTER")] = ""
    # the sentinels' own (requirepass in sentinel.conf)
    redis_sentinel_password: Annotated[AsGiven, var("REDIS_SENTINEL_PASSWORD", secret=True)] = ""
    # empty: REDIS_URL (the data Redis is the broker)
    celery_broker_url: Annotated[str, var("CELERY_BROKER_URL"), check(_broker_url)] = ""
    celery_broker_sentinel_master: Annotated[Text, var("CELERY_BROKER_SENTINEL_MASTER")] = ""
    # Failover-critical writes wait for this many replicas (None: auto; storage/replicas.py).
    redis_min_replicas_ack: Annotated[int | None, var("REDIS_MIN_REPLICAS_ACK"),
                                      check(_replicas)] = None
    redis_wait_timeout_ms: Annotated[int, var("REDIS_WAIT_TIMEOUT_MS", 1, 60000)] = 500
    sms_backend: Annotated[Literal["twilio", "console"], var("SMS_BACKEND"), Lower] = "console"
    twilio_account_sid: Annotated[Text, var("TWILIO_ACCOUNT_SID")] = ""
    twilio_auth_token: Annotated[Text, var("TWILIO_AUTH_TOKEN", secret=True)] = ""
    twilio_from_number: Annotated[Text, var("TWILIO_FROM_NUMBER")] = ""
    twilio_messaging_service_sid: Annotated[Text, var("TWILIO_MESSAGING_SERVICE_SID")] = ""
    # Webhook SharedKeys (X-Twilio-Webhooks-Signature-Settings): (key id, secret) pairs.
    twilio_webhook_shared_keys: Annotated[
        tuple[tuple[str, str], ...], var("TWILIO_WEBHOOK_SHARED_KEYS", secret=True),
        check(_shared_keys)] = ()
    twilio_api_url: Annotated[str, var("TWILIO_API_URL"), check(_url)] = "https://api.twilio.com"
    twilio_mps: Annotated[float, var("TWILIO_MPS", 0.01, 10000)] = 1.0
    # US 10DLC carrier limits (capacity forecast): segments a day and a second per carrier, and
    # each carrier's share of the numbers (default: from national market shares).
    carrier_daily_caps: Annotated[tuple[tuple[str, float], ...], var("CARRIER_DAILY_CAPS"),
                                  check(_carrier_map)] = ()
    carrier_mps: Annotated[tuple[tuple[str, float], ...], var("CARRIER_MPS"),
                           check(_carrier_map)] = ()
    carrier_mix: Annotated[tuple[tuple[str, float], ...], var("CARRIER_MIX"),
                           check(_carrier_mix)] = (("verizon", 0.35), ("tmobile", 0.33),
                                                   ("att", 0.32))
    # Calls per second the account may start (Twilio's CPS; the evening calls' own pace).
    twilio_cps: Annotated[float, var("TWILIO_CPS", 0.01, 1000)] = 1.0
    # Provider requests one worker keeps in flight (SEND_CONCURRENCY); 0: sized from TWILIO_MPS.
    send_concurrency_setting: Annotated[int, var("SEND_CONCURRENCY", 1, 1000)] = 0
    twilio_timeout_seconds: Annotated[float, var("TWILIO_TIMEOUT_SECONDS", 0.1, 120)] = 10.0
    # After a Twilio call whose answer was lost, how long the message is looked for at Twilio
    # before it is sent again (its list can lag behind a create).
    sms_recheck_seconds: Annotated[int, var("SMS_RECHECK_SECONDS", 1, 36000)] = 120
    opt_out_handled_by: Annotated[Literal["twilio", "app"], var("OPT_OUT_HANDLED_BY"),
                                  Lower] = "twilio"
    email_backend: Annotated[Literal["smtp", "console"], var("EMAIL_BACKEND"), Lower] = "console"
    smtp_host: Annotated[Text, var("SMTP_HOST")] = ""
    smtp_port: Annotated[int, var("SMTP_PORT", 1, 65535)] = 587
    smtp_username: Annotated[AsGiven, var("SMTP_USERNAME")] = ""
    smtp_password: Annotated[AsGiven, var("SMTP_PASSWORD", secret=True)] = ""
    smtp_starttls: Annotated[bool, var("SMTP_STARTTLS"), Lower] = True
    # SMTPS (usually port 465) instead of STARTTLS; unset: on for port 465 (load_settings)
    smtp_implicit_tls: Annotated[bool, var("SMTP_IMPLICIT_TLS"), Lower] = False
    smtp_timeout_seconds: Annotated[float, var("SMTP_TIMEOUT_SECONDS", 0.1, 300)] = 20.0
    # PEM file of the CA certificates that may sign the SMTP server's certificate (a relay with
    # a private CA); None: the system's store.
    smtp_ca_file: Annotated[Path | None, var("SMTP_CA_FILE"), check(_ca_file)] = None
    email_from: Annotated[str, var("EMAIL_FROM"), check(_email_address)] = "reminders@localhost"
    public_url: Annotated[str, var("PUBLIC_URL"), check(_url)] = "http://127.0.0.1:8000"
    secret_key: Annotated[AsGiven, var("SECRET_KEY", secret=True)] = ""
    default_send_time: Annotated[time, var("DEFAULT_SEND_TIME"), check(_hhmm)] = time(20, 0)
    # empty: infer from the phone number, else FALLBACK_TIMEZONE
    default_timezone: Annotated[str, var("DEFAULT_TIMEZONE"), check(_timezone)] = ""
    sms_max_segments: Annotated[int, var("SMS_MAX_SEGMENTS", 1, 10)] = 2
    late_limit_minutes: Annotated[int, var("LATE_LIMIT_MINUTES", 1, 600)] = 90
    # A busy / no-answer / failed evening call is tried once more this much later (in the limit).
    voice_retry_minutes: Annotated[int, var("VOICE_RETRY_MINUTES", 1, 120)] = 10
    program_name: Annotated[Text, var("PROGRAM_NAME")] = "Foot Care Reminders"
    support_contact: Annotated[Text, var("SUPPORT_CONTACT")] = ""
    outbox_dir: Annotated[Path, var("OUTBOX_DIR"), check(_path)] = PROJECT_ROOT / "var" / "outbox"
    templates_dir: Annotated[Path, var("TEMPLATES_DIR"), check(_path)] = PROJECT_ROOT / "templates"
    # How often beat ticks the dispatcher. The contract says every minute; tests shorten it.
    dispatch_interval_seconds: Annotated[float, var("DISPATCH_INTERVAL_SECONDS", 0.2, 3600)] = 60.0
    # How many due subscribers one claim takes from the index at a time.
    dispatch_batch_size: Annotated[int, var("DISPATCH_BATCH_SIZE", 1, 100000)] = 500
    # Weekday (date.weekday(): 0 Monday .. 6 Sunday) of the weekly progress text, by name.
    weekly_summary_day: Annotated[int, var("WEEKLY_SUMMARY_DAY"), check(_weekday)] = 6
    # How long an operator's console login lasts (hours), from the login on.
    console_session_hours: Annotated[int, var("CONSOLE_SESSION_HOURS", 1, 24 * 30)] = 8
    # Local state: the beat schedule, and redis.url (the Redis `make run` uses).
    state_dir: Annotated[Path, var("STATE_DIR"), check(_path)] = PROJECT_ROOT / "var"
    # empty: /metrics is open (bind it privately then)
    metrics_token: Annotated[AsGiven, var("METRICS_TOKEN", secret=True)] = ""
    send_window: Annotated[Window, var("SEND_WINDOW"), check(_windows)] = DEFAULT_WINDOWS.general
    state_windows: Annotated[tuple[tuple[str, Window], ...], var("STATE_WINDOWS"),
                             check(_windows)] = DEFAULT_WINDOWS.states
    # empty: by date (domain/opt_out.py)
    opt_out_scope: Annotated[Literal["", "program", "sender"], var("OPT_OUT_SCOPE"), Lower] = ""
    # The care-team loop's own table (settings_care.py reads it; load_settings puts it here).
    care: CareSettings = Field(default_factory=CareSettings, exclude=True)
    # A killed worker's tasks come back after this many seconds (0: from the late limit).
    broker_visibility_timeout: Annotated[int, var("BROKER_VISIBILITY_TIMEOUT", 1, 86400)] = 0

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
    def windows(self) -> Windows:
        return Windows(self.send_window, self.state_windows)

    @property
    def fallback_timezone(self) -> str:
        return self.default_timezone or FALLBACK_TIMEZONE


# Read elsewhere, not a Settings field (logs.py reads LOG_LEVEL itself).
OTHER_VARIABLES = ("LOG_LEVEL",)


@dataclass(frozen=True)
class Variable:
    """One environment variable and the Settings field it sets (None: read elsewhere)."""

    name: str
    field: str | None


VARIABLES = (*(Variable(str(info.alias), name) for name, info in Settings.model_fields.items()
               if info.alias),
             *(Variable(name, None) for name in OTHER_VARIABLES))
# and the care-team loop's own table (settings_care.py reads those)
KNOWN_VARIABLES = tuple(variable.name for variable in VARIABLES) + settings_care.NAMES
_NAMES = {variable.field: variable.name for variable in VARIABLES if variable.field}


def _name_of(field_name: str | None) -> str:
    return _NAMES.get(field_name or "", field_name or "?")


def load_settings(environ: Mapping[str, str] | None = None, dotenv: bool = True) -> Settings:
    """Build Settings from `environ` (default: os.environ, then `.env` in the working dir,
    then for REDIS_URL the file `make run` writes: settings_files.py)."""
    from_files = environ is None
    if environ is None:
        if dotenv:
            load_dotenv_file()
        environ = os.environ
    known = set(KNOWN_VARIABLES)
    env = {k: v for k, v in environ.items() if k in known and v.strip() != ""}
    if from_files and "REDIS_URL" not in env and (remembered := remembered_redis_url(env)):
        env["REDIS_URL"] = remembered
    _derive(env)
    try:
        settings = Settings(**env)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise one_line(exc, Settings) from None
    if "SMTP_IMPLICIT_TLS" not in env:  # SMTPS' usual port
        settings = settings.model_copy(update={"smtp_implicit_tls": settings.smtp_port == 465})
    settings = settings.model_copy(update={"care": settings_care.load(env)})
    check_consistency(settings)
    if settings.console_mode and not settings.secret_key:
        settings = settings.model_copy(
            update={"secret_key": console_secret(settings.outbox_dir.parent)})
    return settings


def _derive(env: dict[str, str]) -> None:
    """Defaults that follow from other variables (the backend follows its credentials)."""
    env.setdefault("SMS_BACKEND", "twilio" if env.get("TWILIO_ACCOUNT_SID") else "console")
    env.setdefault("EMAIL_BACKEND", "smtp" if env.get("SMTP_HOST") else "console")
