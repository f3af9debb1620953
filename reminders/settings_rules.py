"""The configuration's cross-variable rules: what a backend needs before it can work at all,
and timings that must fit each other (each variable's own check is in settings.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from reminders.settings_parse import ConfigError, check_default_time, check_secret

if TYPE_CHECKING:
    from reminders.settings import Settings


def check_consistency(s: Settings) -> None:
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
    check_default_time(s.default_send_time, s.send_window)
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
