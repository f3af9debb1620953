"""Wiring: build the Redis client, renderer, transports, sender and dispatcher from Settings.

Nothing is built at import time; each entry point (CLI, worker, web) calls `build()` once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property

import redis

from reminders.delivery import Sender
from reminders.dispatch import Dispatcher
from reminders.emailmsg import EmailComposer
from reminders.inbound import Inbound
from reminders.ratelimit import RateLimiter
from reminders.render import Renderer
from reminders.replies import Replies
from reminders.settings import ConfigError, Settings
from reminders.store import Store
from reminders.transports.base import EmailTransport, SmsTransport
from reminders.transports.console import ConsoleEmail, ConsoleSms


class RedisUnavailable(RuntimeError):
    """Redis does not answer, or is configured so that it could lose the schedule."""


def connect(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=5,
                                health_check_interval=30)


def check_redis(client: redis.Redis, url: str) -> None:
    """Redis must answer and must never evict keys (the schedule lives there)."""
    try:
        client.ping()
    except redis.RedisError as exc:
        raise RedisUnavailable(f"REDIS_URL {url} does not answer: {exc}") from None
    try:
        policy = client.config_get("maxmemory-policy").get("maxmemory-policy", "noeviction")
    except redis.ResponseError:
        return  # managed Redis that hides CONFIG: nothing we can check
    if isinstance(policy, bytes):
        policy = policy.decode()
    if policy != "noeviction":
        raise RedisUnavailable(
            f"Redis at REDIS_URL uses maxmemory-policy {policy}; it must be noeviction "
            "or reminders could be silently dropped (set: CONFIG SET maxmemory-policy noeviction)"
        )


@dataclass
class Services:
    settings: Settings

    @cached_property
    def redis(self) -> redis.Redis:
        return connect(self.settings.redis_url)

    @cached_property
    def store(self) -> Store:
        return Store(self.redis)

    @cached_property
    def renderer(self) -> Renderer:
        s = self.settings
        return Renderer(s.templates_dir, s.program_name, s.sms_max_segments)

    @cached_property
    def sms(self) -> SmsTransport:
        s = self.settings
        if s.sms_backend == "console":
            return ConsoleSms(s.outbox_dir)
        from reminders.transports.twilio_sms import TwilioSms

        return TwilioSms(
            s.twilio_account_sid, s.twilio_auth_token, s.twilio_from_number,
            s.twilio_messaging_service_sid, s.twilio_api_url, s.public_url + "/sms/status",
            s.twilio_timeout_seconds,
        )

    @cached_property
    def email(self) -> EmailTransport:
        s = self.settings
        if s.email_backend == "console":
            return ConsoleEmail(s.outbox_dir)
        from reminders.transports.smtp_email import SmtpEmail

        return SmtpEmail(s.smtp_host, s.smtp_port, s.smtp_username, s.smtp_password,
                         s.smtp_starttls, s.smtp_implicit_tls, s.smtp_timeout_seconds,
                         s.smtp_ca_file)

    @cached_property
    def composer(self) -> EmailComposer:
        s = self.settings
        return EmailComposer(s.public_url, s.secret_key, s.email_from, s.program_name,
                             s.templates_dir)

    @cached_property
    def sender(self) -> Sender:
        s = self.settings
        limiter = (RateLimiter(self.redis, s.twilio_mps, s.sms_max_segments)
                   if s.sms_backend == "twilio" else None)
        return Sender(self.redis, self.renderer, self.sms, self.email, self.composer,
                      timedelta(minutes=s.late_limit_minutes), s.send_lease_seconds, limiter)

    @cached_property
    def dispatcher(self) -> Dispatcher:
        s = self.settings
        # A send task unfinished after the broker's visibility timeout is presumed lost.
        return Dispatcher(self.redis, timedelta(minutes=s.late_limit_minutes),
                          s.dispatch_batch_size, timedelta(seconds=s.visibility_timeout))

    @cached_property
    def replies(self) -> Replies:
        return Replies(self.settings.templates_dir)

    def inbound(self, now: datetime) -> Inbound:
        from reminders.confirmations import send_email_confirmation

        return Inbound(self.store, self.redis, self.settings, self.replies, now,
                       on_email_added=lambda sub: send_email_confirmation(self, sub))

    def apply_provider_error(self, subscriber_id: str, code: str) -> None:
        sub = self.store.get(subscriber_id)
        if sub is not None:
            self.sender.apply_provider_error(sub, code)

    def check(self) -> None:
        """Fail fast at start: Redis reachable and safe, templates loadable."""
        check_redis(self.redis, self.settings.redis_url)
        if not (self.settings.templates_dir / "content" / "library.toml").is_file():
            raise ConfigError(f"TEMPLATES_DIR {self.settings.templates_dir} has no content library")
        _ = self.renderer


def build(settings: Settings) -> Services:
    return Services(settings)
