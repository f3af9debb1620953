"""Send one person's reminder for one local evening, at most once per channel.

Tasks hand us ids, never objects: we reload the subscriber, then claim the night's record
before any send (claim before send), so a task delivered twice, retried, or run by two workers
sends one message. A sender that died mid-send leaves an expired lease; whoever reclaims it
first asks the provider whether the message went out before sending again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import redis

from reminders import keys, nights
from reminders.render import Renderer, Tonight
from reminders.schedule import send_instant
from reminders.store import ConsentEvent, Store
from reminders.subscribers import Subscriber
from reminders.transports.base import DeliveryError, SmsTransport
from reminders.transports.twilio_sms import INVALID_NUMBER, OPTED_OUT

log = logging.getLogger(__name__)

# Failures after which the provider may still have accepted the message.
AMBIGUOUS_CODES = ("timeout", "connection")
BUSY_RECHECK_SECONDS = 5.0


class RetryLater(Exception):
    """A channel hit a transient error (or another worker holds the night): try again later."""

    def __init__(self, delay: float | None, reason: str) -> None:
        super().__init__(reason)
        self.delay = delay
        self.reason = reason


@dataclass
class Outcome:
    subscriber_id: str
    local_date: date
    channels: dict[str, str] = field(default_factory=dict)  # channel -> what happened


class Sender:
    def __init__(
        self, client: redis.Redis, renderer: Renderer, sms: SmsTransport,
        late_limit: timedelta, lease_seconds: float = 60.0,
    ) -> None:
        self.redis = client
        self.store = Store(client)
        self.renderer = renderer
        self.sms = sms
        self.late_limit = late_limit
        self.lease_seconds = lease_seconds

    def deliver(self, subscriber_id: str, local_date: date, now: datetime,
                ignore_late: bool = False) -> Outcome:
        outcome = Outcome(subscriber_id, local_date)
        sub = self.store.get(subscriber_id)
        if sub is None:
            log.info("send skip subscriber=%s date=%s reason=forgotten", subscriber_id, local_date)
            return outcome
        due = send_instant(local_date, sub.send_time, ZoneInfo(sub.timezone))
        if not ignore_late and now - due > self.late_limit:
            log.warning("send missed subscriber=%s date=%s reason=late lag=%.0fs", sub.id,
                        local_date, (now - due).total_seconds())
            nights.record_missed(self.redis, sub, local_date, reason="late")
            outcome.channels["sms"] = "missed"
            return outcome
        if sub.wants_sms and sub.phone:
            outcome.channels["sms"] = self._deliver_sms(sub, local_date, now)
        return outcome

    def _skip_reason(self, sub: Subscriber, local_date: date) -> str | None:
        if sub.sms_status != "active":
            return sub.sms_status  # pending (not confirmed), opted_out, invalid
        if sub.is_paused_on(local_date):
            return "paused"
        return None

    def _deliver_sms(self, sub: Subscriber, local_date: date, now: datetime) -> str:
        assert sub.phone is not None
        reason = self._skip_reason(sub, local_date)
        if reason:
            if nights.finish(self.redis, sub.id, local_date, "sms", "skipped", reason=reason):
                log.info("send skip subscriber=%s date=%s channel=sms reason=%s", sub.id,
                         local_date, reason)
            return "skipped"
        claim = nights.claim(self.redis, sub.id, local_date, "sms", now, self.lease_seconds)
        if claim.outcome == "done":
            log.info("send skip subscriber=%s date=%s channel=sms reason=already-%s", sub.id,
                     local_date, claim.detail)
            return f"already {claim.detail}"
        if claim.outcome == "busy":
            # Usually the holder finishes within a second: look again soon, not at lease end.
            remaining = float(claim.detail) - now.timestamp()
            raise RetryLater(min(max(remaining, 1.0), BUSY_RECHECK_SECONDS),
                             "another attempt holds it")
        if claim.outcome == "reclaimed" and self._recover(sub, local_date, float(claim.detail)):
            return "sent"
        tonight = self.renderer.tonight(sub, local_date)
        return self._send(sub, local_date, tonight, now)

    def _recover(self, sub: Subscriber, local_date: date, since_epoch: float) -> bool:
        """An earlier attempt died mid-send: if the provider has its message, record it."""
        assert sub.phone is not None
        since = datetime.fromtimestamp(since_epoch, tz=UTC)
        try:
            found = self.sms.find_sent(sub.phone, since)
        except DeliveryError as exc:
            nights.release_for_retry(self.redis, sub.id, local_date, "sms", exc.code)
            raise RetryLater(exc.retry_after, f"cannot check earlier attempt: {exc}") from exc
        if found is None:
            return False
        log.warning("send recovered subscriber=%s date=%s sid=%s", sub.id, local_date,
                    found.provider_id)
        self._record_sent(sub, local_date, found.provider_id, found.status)
        return True

    def _send(self, sub: Subscriber, local_date: date, tonight: Tonight, now: datetime) -> str:
        assert sub.phone is not None
        try:
            receipt = self.sms.send_sms(sub.phone, tonight.sms.body)
        except DeliveryError as exc:
            return self._failed(sub, local_date, exc, now)
        self._record_sent(sub, local_date, receipt.provider_id, receipt.status)
        log.info("send ok subscriber=%s date=%s channel=sms sid=%s segments=%d", sub.id,
                 local_date, receipt.provider_id, receipt.segments)
        return "sent"

    def _record_sent(self, sub: Subscriber, local_date: date, provider_id: str, status: str
                     ) -> None:
        nights.finish(self.redis, sub.id, local_date, "sms", "sent", id=provider_id,
                      status=status)
        # Status callbacks name only the SID: remember which night it belongs to.
        self.redis.set(keys.message_index(provider_id), f"{sub.id}:{local_date.isoformat()}",
                       ex=keys.NIGHT_TTL_SECONDS)

    def _failed(self, sub: Subscriber, local_date: date, exc: DeliveryError, now: datetime
                ) -> str:
        if not exc.permanent:
            uncertain = now.timestamp() if exc.code in AMBIGUOUS_CODES else None
            nights.release_for_retry(self.redis, sub.id, local_date, "sms", exc.code, uncertain)
            log.warning("send retry subscriber=%s date=%s channel=sms code=%s", sub.id,
                        local_date, exc.code)
            raise RetryLater(exc.retry_after, f"{exc.code}: {exc.message}")
        nights.finish(self.redis, sub.id, local_date, "sms", "failed", error=exc.code)
        log.warning("send failed subscriber=%s date=%s channel=sms code=%s", sub.id, local_date,
                    exc.code)
        self.apply_provider_error(sub, exc.code)
        return "failed"

    def apply_provider_error(self, sub: Subscriber, code: str) -> None:
        """Errors that say something about the person: stop texting them."""
        if code == OPTED_OUT and sub.sms_status != "opted_out":
            state, action = "opted_out", "opted_out"
        elif code in INVALID_NUMBER and sub.sms_status != "invalid":
            state, action = "invalid", "invalid"
        else:
            return
        fresh = self.store.get(sub.id) or sub
        self.store.save(fresh, fresh.with_changes(sms_status=state),
                        [ConsentEvent("sms", action, "provider", f"error {code}")])
