"""Send one person's reminder for one local evening, at most once per channel.

Tasks hand us ids, never objects: we reload the subscriber, then claim the night's record
before any send (claim before send), so a task delivered twice, retried, or run by two workers
sends one message per channel. A sender that died mid-send leaves an expired lease, a timeout
leaves an uncertain attempt; whoever reclaims the night (or claims it after a Redis restart:
nights.py) asks the SMS provider whether the message went out before sending again
(recovery.py).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from reminders.app import consent, guards, nightly_email
from reminders.app.pacing import Paced, Pacer
from reminders.app.recovery import Attempts, Recovery
from reminders.app.retry import RetryLater, merge
from reminders.app.send_window import OVERLOAD_CODES, SendWindow
from reminders.channels.base import DeliveryError, EmailTransport, SmsTransport, refused_address
from reminders.domain import policies
from reminders.domain.schedule import send_instant
from reminders.domain.subscriber import Subscriber
from reminders.domain.validation import InvalidInput
from reminders.messages.email import EmailComposer
from reminders.messages.render import RenderedEmail, RenderedSms, Renderer
from reminders.storage import counters, nights
from reminders.storage.circuit import Circuit
from reminders.storage.client import Client
from reminders.storage.rate_limit import RateLimiter
from reminders.storage.subscribers import Store

log = logging.getLogger(__name__)

# Failures after which the provider may still have accepted the message.
AMBIGUOUS_CODES = ("timeout", "connection")
BUSY_RECHECK_SECONDS = 5.0
# send-now ignores the late limit, but still waits its turn at most this long.


@dataclass
@dataclass
class Outcome:
    subscriber_id: str
    local_date: date
    channels: dict[str, str] = field(default_factory=dict)  # channel -> what happened


class Sender:
    def __init__(
        self, client: Client, renderer: Renderer, sms: SmsTransport,
        email: EmailTransport, composer: EmailComposer, late_limit: timedelta,
        lease_seconds: float = 60.0, limiter: RateLimiter | None = None,
        recheck_seconds: float = 120.0, circuit: Circuit | None = None,
        window: SendWindow | None = None,
    ) -> None:
        self.redis = client
        self.store = Store(client)
        self.renderer = renderer
        self.sms = sms
        self.email = email
        self.composer = composer
        self.late_limit = late_limit
        self.lease_seconds = lease_seconds
        self.limiter = limiter
        self.recovery = Recovery(client, sms, recheck_seconds)
        self.circuit = circuit
        self.pacer = Pacer(client, sms, limiter, circuit)
        # In-flight SMS sends of this worker (SEND_CONCURRENCY, halved after a 429).
        self.window = window or SendWindow(100)
        # Called once an evening's usual texts are settled (the weekly summary: app/weekly.py);
        # what it sent is added to the outcome. Set by wiring.
        self.after_evening: Callable[[Subscriber, date, datetime], dict[str, str]] | None = None

    def deliver(self, subscriber_id: str, local_date: date, now: datetime,
                ignore_late: bool = False, not_after: datetime | None = None) -> Outcome:
        """Send the evening's reminder on each channel that is due.

        Nothing is sent after `not_after` (default: the evening's instant plus the late limit);
        `ignore_late` (the operator's send-now) lifts both that and the check on the date.
        """
        outcome = Outcome(subscriber_id, local_date)
        try:
            found = guards.load(self.store, subscriber_id)
        except guards.Unreadable as exc:
            guards.skip_unreadable_evening(self.redis, exc, local_date, now)
            outcome.channels["record"] = "unreadable"
            return outcome
        if found is None:
            log.info("send skip subscriber=%s date=%s reason=forgotten", subscriber_id, local_date)
            nights.settle(self.redis, subscriber_id, local_date)
            return outcome
        sub, tz = found
        if not ignore_late and (why := policies.date_problem(local_date, now, tz)):
            guards.reject_date(self.redis, sub.id, local_date, why)
            nights.settle(self.redis, sub.id, local_date)
            outcome.channels["task"] = "rejected"
            return outcome
        due = send_instant(local_date, sub.send_time, tz)
        deadline = None if ignore_late else policies.deadline(local_date, due, tz,
                                                             self.late_limit, not_after)
        if deadline is not None and now > deadline:
            log.warning("send missed subscriber=%s date=%s reason=late lag=%.0fs", sub.id,
                        local_date, (now - due).total_seconds())
            nights.record_missed(self.redis, sub, local_date, reason="late")
            outcome.channels["sms" if sub.wants_sms else "email"] = "missed"
            nights.settle(self.redis, sub.id, local_date)
            return outcome
        retry: RetryLater | None = None
        wanted = [channel for channel in ("sms", "email") if policies.wants(sub, channel)]
        for index, channel in enumerate(wanted):
            # The evening's last channel settles it in the same round trip as its record,
            # unless an earlier channel still has to be retried.
            settle = index == len(wanted) - 1 and retry is None
            started, failure = time.monotonic(), None
            try:
                # The window is taken before the pace: a cut window books no slots it
                # cannot use.
                with self.window.slot() if channel == "sms" else nullcontext():
                    outcome.channels[channel] = self._deliver(sub, channel, local_date, now,
                                                              settle, deadline)
            except RetryLater as exc:
                # Let the other channel go out now; the task retries only what is left, no
                # earlier than either channel was told to wait.
                outcome.channels[channel] = "retry"
                failure, retry = exc, merge(retry, exc)
            self._log_attempt(sub, channel, local_date, outcome.channels[channel],
                              time.monotonic() - started, failure)
        if retry is not None:
            retry.outcome = outcome
            raise retry
        if not wanted or outcome.channels[wanted[-1]].startswith("already"):
            nights.settle(self.redis, sub.id, local_date)  # nothing was recorded that settled it
        if wanted and self.after_evening is not None:
            outcome.channels.update(self.after_evening(sub, local_date, now))
        return outcome

    def _log_attempt(self, sub: Subscriber, channel: str, local_date: date, result: str,
                     seconds: float, retry: RetryLater | None) -> None:
        """One structured line per delivery attempt (what operators grep and alert on)."""
        error = ""
        if result == "retry" and retry is not None:
            error = retry.reason.split(":", 1)[0]
        elif result == "failed":
            error = nights.read(self.redis, sub.id, local_date).get(f"{channel}_error", "")
        log.info("delivery subscriber=%s channel=%s date=%s outcome=%s duration_ms=%d error=%s",
                 sub.id, channel, local_date, result.replace(" ", "_"), seconds * 1000,
                 error or "-")

    def _deliver(self, sub: Subscriber, channel: str, local_date: date, now: datetime,
                 settle: bool, deadline: datetime | None) -> str:
        reason = policies.skip_reason(sub, channel, local_date)
        if reason:
            if nights.finish(self.redis, sub.id, local_date, channel, "skipped", settle=settle,
                             reason=reason):
                log.info("send skip subscriber=%s date=%s channel=%s reason=%s", sub.id,
                         local_date, channel, reason)
            return "skipped"
        # Only the channel at hand is rendered: an SMS send does not pay for the HTML email.
        selection = self.renderer.select(sub, local_date)
        sms = self.renderer.sms(sub, selection) if channel == "sms" else None
        send_by: float | None = None
        if sms is not None:
            paced = self._gate(sub, local_date, sms.segments, now, settle, deadline)
            if isinstance(paced, str):
                return paced
            now, send_by = paced
        window = policies.attempt_window(sub, local_date, self.late_limit)
        claim = nights.claim(self.redis, sub.id, local_date, channel, now, self.lease_seconds,
                             window if channel == "sms" else None)
        if not claim.owned:
            return self._not_ours(sub, local_date, channel, claim, now)
        if sms is not None:
            attempts = (Attempts.parse(claim.detail) if claim.outcome != "claimed"
                        else Attempts.starting(now))
            # A lost record after a Redis restart: its message, if any, was created before
            # the restart, so one look is enough (no recheck window to wait out).
            found = (self.recovery.check(sub, local_date, attempts, sms.body, now,
                                         patient=claim.outcome == "reclaimed")
                     if claim.outcome != "claimed" else None)
            if found is not None:
                self._record_sent(sub, local_date, "sms", found.provider_id, found.status,
                                  settle)
                return "sent"
            return self._send_sms(sub, local_date, sms, now, settle, attempts.then(now),
                                  send_by, deadline)
        email = self.renderer.email(sub, selection, local_date, self._unsubscribe_url(sub))
        return self._send_email(sub, local_date, email, now, settle,
                                reclaimed=claim.outcome != "claimed")

    def _not_ours(self, sub: Subscriber, local_date: date, channel: str, claim: nights.Claim,
                  now: datetime) -> str:
        """A claim this attempt does not own: the night's outcome, or RetryLater."""
        if claim.outcome == "busy":
            # Usually the holder finishes within a second: look again soon, not at lease end.
            remaining = float(claim.detail) - now.timestamp()
            raise RetryLater(min(max(remaining, 1.0), BUSY_RECHECK_SECONDS),
                             "another attempt holds it")
        if claim.outcome == "wait":
            raise RetryLater(max(float(claim.detail) - now.timestamp(), 1.0),
                             "retry-after: the provider asked us to wait")
        log.info("send skip subscriber=%s date=%s channel=%s reason=already-%s", sub.id,
                 local_date, channel, claim.detail)
        return f"already {claim.detail}"

    def _gate(self, sub: Subscriber, local_date: date, segments: int, now: datetime,
              settle: bool, deadline: datetime | None) -> Paced | str:
        """The circuit and a rate-limit slot; never past `deadline`: a slot that comes later
        than that means the evening is missed."""
        paced = self.pacer.gate(segments, now, deadline)
        if paced is None:
            log.warning("send missed subscriber=%s date=%s reason=rate-limit", sub.id,
                        local_date)
            nights.finish(self.redis, sub.id, local_date, "sms", "missed", settle=settle,
                          reason="rate-limit")
            return "missed"
        return paced

    def _unsubscribe_url(self, sub: Subscriber) -> str | None:
        return self.composer.unsubscribe_url(sub) if sub.email else None

    def _send_sms(self, sub: Subscriber, local_date: date, sms: RenderedSms, now: datetime,
                  settle: bool, attempts: Attempts, send_by: float | None,
                  deadline: datetime | None) -> str:
        assert sub.phone is not None
        try:
            receipt = self.pacer.send(sub.phone, sms.body, sms.segments, send_by, deadline)
        except DeliveryError as exc:
            if exc.code in OVERLOAD_CODES and self.window.overloaded():
                counters.incr(self.redis, counters.SEND_WINDOW_CUTS)
            return self._failed(sub, local_date, "sms", exc, now, settle, attempts.encode())
        self.window.succeeded()
        self._record_sent(sub, local_date, "sms", receipt.provider_id, receipt.status, settle)
        log.debug("sms body subscriber=%s sid=%s segments=%d: %s", sub.id, receipt.provider_id,
                  receipt.segments, sms.body)
        return "sent"

    def _send_email(self, sub: Subscriber, local_date: date, email: RenderedEmail,
                    now: datetime, settle: bool, reclaimed: bool) -> str:
        assert sub.email is not None
        try:
            message = self.composer.nightly(sub, email, now)
        except InvalidInput as exc:
            return self._failed(sub, local_date, "email", refused_address(str(exc)), now, settle)
        before_data = nightly_email.stamp(self.redis, message, sub.id, local_date, self.composer,
                                          reclaimed)
        try:
            message_id = self.email.send_email(message, before_data=before_data)
        except DeliveryError as exc:
            return self._failed(sub, local_date, "email", exc, now, settle)
        self._record_sent(sub, local_date, "email", message_id, "sent", settle)
        return "sent"

    def _record_sent(self, sub: Subscriber, local_date: date, channel: str, provider_id: str,
                     status: str, settle: bool) -> None:
        # One round trip: the night's record, the SID -> night index (status callbacks name
        # only the SID) and, for the evening's last channel, settling it.
        nights.finish(self.redis, sub.id, local_date, channel, "sent", settle=settle,
                      message_index=provider_id if channel == "sms" else None,
                      id=provider_id, status=status)

    def _failed(self, sub: Subscriber, local_date: date, channel: str, exc: DeliveryError,
                now: datetime, settle: bool, attempts: str | None = None) -> str:
        """`attempts`: the ones (this one included) that may have reached the provider."""
        if not exc.permanent:
            uncertain = None
            if exc.code in AMBIGUOUS_CODES:  # the provider may have the message after all
                uncertain = attempts or repr(now.timestamp())
            # The circuit, not the night, holds off a refused account: a fixed token resumes.
            not_before = (None if exc.retry_after is None or exc.service
                          else now.timestamp() + exc.retry_after)
            nights.release_for_retry(self.redis, sub.id, local_date, channel, exc.code,
                                     uncertain, not_before)
            log.warning("send retry subscriber=%s date=%s channel=%s code=%s", sub.id,
                        local_date, channel, exc.code)
            raise RetryLater(exc.retry_after, f"{exc.code}: {exc.message}")
        nights.finish(self.redis, sub.id, local_date, channel, "failed", settle=settle,
                      error=exc.code)
        log.warning("send failed subscriber=%s date=%s channel=%s code=%s", sub.id, local_date,
                    channel, exc.code)
        consent.apply(self.store, sub, channel, exc.recipient, exc.code)
        return "failed"
