"""Wiring: build the Redis client, renderer, transports, sender and dispatcher from Settings
(the care-team loop's reviews, silence and escalator: wiring_care.py).

Nothing is built at import time; each entry point (CLI, worker, web) calls `build()` once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from reminders.app.care.foot_problems import CAREGIVER_LEVELS, EVENING_STARTS_HOUR
from reminders.app.compliance.outside_window import Notices
from reminders.app.compliance.reconfirm import Reconfirmations
from reminders.app.evenings import capacity
from reminders.app.evenings.dispatch import Dispatcher
from reminders.app.evenings.nightly import Sender
from reminders.app.evenings.weekly import Weekly
from reminders.app.people.caregivers import Caregivers, CareSender
from reminders.app.people.confirmations import Confirmations
from reminders.app.replies.inbound import Inbound
from reminders.app.sending import recipient_consent
from reminders.app.sending.in_flight import SendWindow
from reminders.app.sending.lost_answers import Recovery
from reminders.app.sending.pacing import Pacer
from reminders.app.sending.send_path import SendPath
from reminders.app.sending.sms_circuit import GuardedSms
from reminders.channels.base import (
    DeliveryError,
    EmailDelivery,
    EmailTransport,
    Recipient,
    SmsDelivery,
    SmsTransport,
    Transport,
)
from reminders.channels.console import ConsoleEmail, ConsoleSms
from reminders.messages.email import EmailComposer
from reminders.messages.render import Renderer
from reminders.messages.replies import Replies
from reminders.messages.weekly import TooLong, WeeklyTexts
from reminders.settings import ConfigError, Settings
from reminders.storage import caregivers as caregivers_store
from reminders.storage import consent_log, due_index, keys, replicas
from reminders.storage.circuit import Circuit
from reminders.storage.client import Client, check_redis, connect
from reminders.storage.counters import Counters
from reminders.storage.rate_limit import RateLimiter
from reminders.storage.subscribers import Store
from reminders.wiring_care import CareWiring
from reminders.wiring_voice import VoiceWiring

if TYPE_CHECKING:
    from reminders.channels.twilio_sms import TwilioSms

log = logging.getLogger(__name__)


@dataclass
class Services(CareWiring, VoiceWiring):
    """Everything built from Settings, once; the care-team loop's part in wiring_care.py."""

    settings: Settings
    storage_checked: bool = field(default=False, init=False, repr=False)
    # How a caregiver's foot-problem alert leaves the process that heard of it: the web app
    # sets a Celery hand-off (a new task, so the webhook never waits on the provider); left
    # None (the CLI's `reply`), the alert is sent right here.
    care_handoff: Callable[[str, str, str], object] | None = field(default=None, repr=False)
    # The same for a silence check-in (task reminders.send_checkin) and for an escalation due
    # at once (task reminders.care_sweep); None: done right here.
    checkin_handoff: Callable[[str, str], object] | None = field(default=None, repr=False)
    review_handoff: Callable[[str], object] | None = field(default=None, repr=False)
    # An evening's second call (app/voice/redial.py) to a worker: (id, date, not before).
    redial_handoff: Callable[[str, str, datetime], object] | None = field(default=None)

    @cached_property
    def redis(self) -> Client:
        s = self.settings
        client = connect(s.redis_url, s.redis_sentinel_master, s.redis_sentinel_password)
        replicas.configure(client, s.redis_min_replicas_ack, s.redis_wait_timeout_ms)
        return client

    @cached_property
    def store(self) -> Store:
        return Store(self.redis)

    @cached_property
    def renderer(self) -> Renderer:
        s = self.settings
        return Renderer(s.templates_dir, s.program_name, s.sms_max_segments)

    @cached_property
    def sms(self) -> SmsTransport:
        if self.settings.sms_backend == "console":
            return ConsoleSms(self.settings.outbox_dir)
        return GuardedSms(self._twilio(), self.circuit)

    @cached_property
    def circuit(self) -> Circuit:
        return Circuit(self.redis)

    def _twilio(self) -> TwilioSms:
        from reminders.channels.twilio_sms import TwilioSms

        s = self.settings
        return TwilioSms(
            s.twilio_account_sid, s.twilio_auth_token, s.twilio_from_number,
            s.twilio_messaging_service_sid, s.twilio_api_url, s.public_url + "/sms/status",
            s.twilio_timeout_seconds, s.send_concurrency,
        )

    def check_sms_credentials(self) -> None:
        """At a worker's start: does Twilio accept our credentials? A refusal stops sending
        at once (circuit.py); an acceptance ends an earlier stop (the token was fixed)."""
        if self.settings.sms_backend != "twilio":
            return
        probe = self._twilio()  # its own connection: the worker forks after this
        try:
            probe.check_credentials()
        except DeliveryError as exc:
            if exc.service:
                self.circuit.trip(exc.code, exc.message)
            else:  # Twilio unreachable or slow: the sends will find out
                log.warning("twilio credentials not checked at start: %s %s", exc.code, exc)
            return
        finally:
            probe.close()
        self.circuit.reset()

    @cached_property
    def email(self) -> EmailTransport:
        s = self.settings
        if s.email_backend == "console":
            return ConsoleEmail(s.outbox_dir)
        from reminders.channels.smtp_email import SmtpEmail

        return SmtpEmail(s.smtp_host, s.smtp_port, s.smtp_username, s.smtp_password,
                         s.smtp_starttls, s.smtp_implicit_tls, s.smtp_timeout_seconds,
                         s.smtp_ca_file)

    @cached_property
    def composer(self) -> EmailComposer:
        s = self.settings
        return EmailComposer(s.public_url, s.secret_key, s.email_from, s.program_name,
                             s.templates_dir)

    @cached_property
    def limiter(self) -> RateLimiter | None:
        """The account-wide SMS pace (TWILIO_MPS); none for the console backend."""
        s = self.settings
        return (RateLimiter(self.redis, s.twilio_mps, s.sms_max_segments)
                if s.sms_backend == "twilio" else None)

    @cached_property
    def transports(self) -> dict[str, Transport]:
        """Each declared channel's transport (domain/channels.py): a new channel adds its
        entry here."""
        # The console backend writes a call's TwiML to the outbox as it writes a text.
        voice = self.voice if self.settings.sms_backend == "twilio" else SmsDelivery(self.sms)
        return {"sms": SmsDelivery(self.sms), "email": EmailDelivery(self.email), "voice": voice}

    @cached_property
    def send_path(self) -> SendPath:
        """The one send path every kind of message takes (app/sending/send_path.py)."""
        s = self.settings
        counted = Counters(self.redis)
        calls = ({"voice": RateLimiter(self.redis, s.twilio_cps, 1, key=keys.VOICE_RATE)}
                 if s.sms_backend == "twilio" else {})
        pacer = Pacer(counted, self.limiter,
                      self.circuit if s.sms_backend == "twilio" else None, calls)
        return SendPath(counted, self.store, self.transports, pacer,
                        Recovery(s.sms_recheck_seconds), SendWindow(s.send_concurrency),
                        s.send_lease_seconds)

    @cached_property
    def sender(self) -> Sender:
        s = self.settings
        sender = Sender(self.send_path, self.renderer, self.composer,
                        timedelta(minutes=s.late_limit_minutes))
        sender.after_evening = self.weekly
        sender.render["voice"] = self._voice_render
        return sender

    @cached_property
    def weekly_texts(self) -> WeeklyTexts:
        s = self.settings
        return WeeklyTexts(s.templates_dir, s.program_name, s.sms_max_segments)

    @cached_property
    def care_sender(self) -> CareSender:
        return CareSender(self.store, self.weekly_texts, self.send_path)

    @cached_property
    def weekly(self) -> Weekly:
        s = self.settings
        return Weekly(self.store, self.weekly_texts, self.send_path, self.composer,
                      self.care_sender, s.weekly_summary_day,
                      timedelta(minutes=s.late_limit_minutes))

    def caregivers(self, now: datetime) -> Caregivers:
        return Caregivers(self.store, self.weekly_texts, self.sms,
                          self.settings.support_contact, now, self.limiter)

    def send_care_alert(self, subscriber_id: str, key: str, finding: str) -> str:
        """The caregiver's alert about one report (at most once per key). `finding` is
        "<level>:<category>" from the triage, never the person's words (a task queued by an
        older version carried their words: it is sent as a possible foot problem, unquoted)."""
        sub = self.store.get(subscriber_id)
        if sub is None:
            return "forgotten"
        level, _, category = finding.partition(":")
        if level not in CAREGIVER_LEVELS:
            level, category = "same_day", "unknown"
        now = datetime.now(UTC)
        local_hour = now.astimezone(ZoneInfo(sub.timezone)).hour
        when = "tonight" if local_hour >= EVENING_STARTS_HOUR else "today"
        try:
            body = self.weekly_texts.in_language(sub.language).alert(sub.name, level, category,
                                                                     when)
        except TooLong as exc:  # PROGRAM_NAME too long for SMS_MAX_SEGMENTS
            log.error("caregiver alert not sent subscriber=%s: %s", sub.id, exc)
            return "too-long"
        return self.care_sender.send(sub, key, body, "alert", now)

    def _on_foot_problem(self, subscriber_id: str, key: str, finding: str) -> None:
        if not caregivers_store.is_active(self.redis, subscriber_id):
            return  # no caregiver with both consents: nothing to hand anyone
        if self.care_handoff is not None:
            self.care_handoff(subscriber_id, key, finding)
        else:
            self.send_care_alert(subscriber_id, key, finding)

    @cached_property
    def confirmations(self) -> Confirmations:
        return Confirmations(self.store, self.send_path, self.composer, self.replies,
                             self.settings.program_name)

    @cached_property
    def time_notices(self) -> Notices:
        return Notices(self.store, self.send_path, self.replies, self.settings.program_name)

    @cached_property
    def reconfirmations(self) -> Reconfirmations:
        return Reconfirmations(self.store, self.send_path, self.replies,
                               self.settings.program_name, self.settings.windows)

    @cached_property
    def dispatcher(self) -> Dispatcher:
        s = self.settings
        # A send task unfinished after the broker's visibility timeout is presumed lost.
        return Dispatcher(self.store, timedelta(minutes=s.late_limit_minutes),
                          s.dispatch_batch_size, timedelta(seconds=s.visibility_timeout),
                          capacity.Limits.of(s))

    @cached_property
    def replies(self) -> Replies:
        return Replies(self.settings.templates_dir)

    def inbound(self, now: datetime) -> Inbound:
        return Inbound(self.store, self.settings, self.replies, now,
                       # (the texted EMAIL booked the inbox's confirmation of the day)
                       on_email_added=lambda sub: self.confirmations.mail(sub, claimed=True),
                       caregivers=self.caregivers(now), on_foot_problem=self._on_foot_problem,
                       on_review=self._on_review)

    def apply_recipient_problem(self, subscriber_id: str, problem: Recipient, code: str
                                ) -> None:
        """A status callback's error about the person (already sorted by the channel)."""
        sub = self.store.get(subscriber_id)
        if sub is not None:
            recipient_consent.apply(self.store, sub, "sms", problem, code)

    def check_storage(self) -> None:
        """What every entry point (CLI, web, worker, beat) does first, once per process: Redis
        reachable and never evicting; consent entries from before the per-person index
        indexed (once per database); a due index in the layout before shards moved."""
        if self.storage_checked:
            return
        check_redis(self.redis, self.settings.redis_url)
        consent_log.build_index(self.redis)
        due_index.migrate(self.redis)  # the single due set of earlier versions, into shards
        self.storage_checked = True

    def check(self) -> None:
        """Fail fast at start: Redis reachable and safe, templates loadable."""
        self.check_storage()
        if not (self.settings.templates_dir / "content" / "library.toml").is_file():
            raise ConfigError(f"TEMPLATES_DIR {self.settings.templates_dir} has no content library")
        _ = self.renderer


def build(settings: Settings) -> Services:
    return Services(settings)
