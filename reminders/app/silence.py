"""Silence: a person whose evening texts are delivered but who no longer answers.

After each delivered nightly text (its status callback) the person's last evenings are read:
SILENCE_EVENINGS delivered evenings in a row since the last text heard from them bring one
kind check-in text ("Still doing OK? Reply DONE, PAUSE, or HELP"); twice that many, a review
item "call them". Once per silent stretch each (the stretch is named by the instant of the last
text heard: storage/send_claims.py), never while paused (a paused evening is not delivered, so
it ends the count) and never after STOP (checked again at the moment of sending). A text the
carrier cannot deliver (its channel says the handset is unreachable) puts the person on the
unreachable list instead: that silence is not theirs.
When the message pipeline lands, the check-in is a kind keyed (person, stretch).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from reminders.app.review import Reviews
from reminders.channels.base import DeliveryError, SmsTransport
from reminders.domain.gsm import count_segments
from reminders.domain.subscriber import Subscriber, now_iso
from reminders.messages.replies import Replies
from reminders.settings_care import CareSettings
from reminders.storage import conversation, counters, heard, nights, send_claims, unreachable
from reminders.storage.client import Client
from reminders.storage.rate_limit import RateLimiter
from reminders.storage.subscribers import Store

log = logging.getLogger(__name__)

CHECKIN = "checkin"
CALL = "silence_item"
PACING_WAIT_SECONDS = 60.0


class CheckinRetry(Exception):
    """A check-in that failed for a reason worth retrying (its claim was given back)."""

    def __init__(self, delay: float | None) -> None:
        super().__init__("check-in to retry")
        self.delay = delay


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


@dataclass
class Silence:
    store: Store
    care: CareSettings
    replies: Replies
    sms: SmsTransport
    limiter: RateLimiter | None
    reviews: Reviews

    def after_status(self, subscriber_id: str, evening: date, status: str,
                     unreachable_code: str, now: datetime) -> str:
        """The new status of the nightly text of `evening`: "unreachable", "checkin" (one is
        due: send_checkin), "call" (an item opened), or "" (nothing to do)."""
        redis = self.store.redis
        if status in ("undelivered", "failed") and unreachable_code:
            unreachable.add(redis, subscriber_id, now_iso(now), unreachable_code)
            return "unreachable"
        if status != "delivered":
            return ""
        unreachable.remove(redis, subscriber_id)
        sub = self.store.get(subscriber_id)
        return self.check(sub, evening, now) if sub is not None else ""

    def silent_evenings(self, sub: Subscriber, evening: date) -> tuple[int, str]:
        """(delivered evenings in a row, up to `evening`, since the last text heard; the
        stretch: the instant of that last text)."""
        zone = ZoneInfo(sub.timezone)
        window = 2 * self.care.silence_evenings
        days = [evening - timedelta(days=n) for n in range(window)]  # that evening first
        last = heard.last(self.store.redis, sub.id) or 0.0
        run = 0
        for day, record in zip(days, nights.read_many(self.store.redis, sub.id, days),
                               strict=True):
            sent_at = datetime.combine(day, sub.send_time, zone).timestamp()
            delivered = record.get("sms") == "sent" and record.get("sms_status") == "delivered"
            if not delivered or last >= sent_at:
                break
            run += 1
        return run, str(int(last))

    def check(self, sub: Subscriber, evening: date, now: datetime) -> str:
        if sub.sms_status != "active" or sub.is_paused_on(evening) or sub.is_paused_on(
                now.astimezone(ZoneInfo(sub.timezone)).date()):
            return ""
        run, stretch = self.silent_evenings(sub, evening)
        redis = self.store.redis
        if run >= 2 * self.care.silence_evenings and send_claims.claim(
                redis, CALL, f"{sub.id}:{stretch}"):
            self.reviews.open(kind="silence", phone=sub.phone or "", subscriber_id=sub.id,
                              level="soon", category="silence",
                              text=f"no reply for {run} delivered evenings: call them", now=now)
            send_claims.finish(redis, CALL, f"{sub.id}:{stretch}", "sent")
            return "call"
        if run >= self.care.silence_evenings and not send_claims.state(
                redis, CHECKIN, f"{sub.id}:{stretch}"):
            return "checkin"
        return ""

    def send_checkin(self, subscriber_id: str, evening: date, now: datetime) -> str:
        """The one check-in of this silent stretch: sent | already | skipped | missed."""
        sub = self.store.get(subscriber_id)
        if sub is None or self.check(sub, evening, now) != "checkin":
            return "skipped"  # they answered, paused or stopped meanwhile
        redis = self.store.redis
        stretch = self.silent_evenings(sub, evening)[1]
        key = f"{sub.id}:{stretch}"
        body = self.replies.in_language(sub.language).render("checkin")
        if self.limiter is not None and not self.limiter.acquire(
                count_segments(body).segments, give_up_after=PACING_WAIT_SECONDS):
            return "missed"
        if not send_claims.claim(redis, CHECKIN, key):
            return "already"
        fresh = self.store.get(sub.id)
        if fresh is None or fresh.sms_status != "active" or not fresh.phone:
            send_claims.finish(redis, CHECKIN, key, "skipped")
            return "skipped"  # a STOP that came while we waited for a slot wins
        try:
            receipt = self.sms.send_sms(fresh.phone, body)
        except DeliveryError as exc:
            if exc.permanent:
                send_claims.finish(redis, CHECKIN, key, "failed")
                return "failed"
            send_claims.release(redis, CHECKIN, key)
            raise CheckinRetry(exc.retry_after) from exc
        send_claims.finish(redis, CHECKIN, key, "sent")
        conversation.add(redis, sub.id, {"dir": "out", "at": now_iso(now), "text": body,
                                         "kind": "checkin", "sid": receipt.provider_id,
                                         "status": receipt.status})
        counters.incr(redis, counters.loop("checkin_sent", iso_week(now.date())))
        log.info("check-in sent subscriber=%s stretch=%s", sub.id, stretch)
        return "sent"


def heard_from(client: Client, subscriber_id: str, now: datetime) -> None:
    """A text from the person ends their silent stretch; when that stretch had a check-in,
    it counts as answered (once: the next text belongs to a new stretch)."""
    previous = heard.last(client, subscriber_id)
    if send_claims.state(client, CHECKIN, f"{subscriber_id}:{int(previous or 0)}") == "sent":
        counters.incr(client, counters.loop("checkin_answered", iso_week(now.date())))
    heard.mark(client, subscriber_id, now.timestamp())
