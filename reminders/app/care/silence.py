"""Silence: a person whose evening texts are delivered but who no longer answers.

After each delivered nightly text (its status callback) the person's last evenings are read:
SILENCE_EVENINGS delivered evenings in a row since the last text heard from them bring one
kind check-in text ("Still doing OK? Reply DONE, PAUSE, or HELP"); twice that many, a review
item "call them". Once per silent stretch each (the stretch is named by the instant of the last
text heard), never while paused (a paused evening is not delivered, so it ends the count) and
never after STOP (checked again at the moment of sending). A text the carrier cannot deliver
(its channel says the handset is unreachable) puts the person on the unreachable list instead:
that silence is not theirs.
The check-in is the `checkin` kind (domain/kinds.py), keyed (person, stretch) and sent through
the one send path (sending/send_path.py: pacing, the claim in storage/sends.py, consent after the
claim, the look-up after a lost answer, status callbacks); the "call them" item keeps its
once-only claim in storage/send_claims.py.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from reminders.app.care.review import Reviews
from reminders.app.sending.retry import RetryLater
from reminders.app.sending.send_path import Outgoing, SendPath
from reminders.domain import channels
from reminders.domain.gsm import count_segments
from reminders.domain.kinds import CHECKIN as CHECKIN_KIND
from reminders.domain.subscriber import Subscriber, now_iso
from reminders.messages.replies import Replies
from reminders.settings_care import CareSettings
from reminders.storage import counters
from reminders.storage.subscribers import Store

log = logging.getLogger(__name__)

CHECKIN = "checkin"  # the scope of check-ins claimed before the send path (send_claims)
CALL = "silence_item"
PACING_WAIT_SECONDS = 60.0


class CheckinRetry(RetryLater):
    """A check-in to try again (busy provider, a lost answer to look up): the task retries."""


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


@dataclass
class Silence:
    store: Store
    care: CareSettings
    replies: Replies
    path: SendPath
    reviews: Reviews

    def after_status(self, subscriber_id: str, evening: date, status: str,
                     unreachable_code: str, now: datetime) -> str:
        """The new status of the nightly text of `evening`: "unreachable", "checkin" (one is
        due: send_checkin), "call" (an item opened), or "" (nothing to do)."""
        if status in ("undelivered", "failed") and unreachable_code:
            self.store.unreachable.add(subscriber_id, now_iso(now), unreachable_code)
            return "unreachable"
        if status != "delivered":
            return ""
        self.store.unreachable.remove(subscriber_id)
        sub = self.store.get(subscriber_id)
        return self.check(sub, evening, now) if sub is not None else ""

    def silent_evenings(self, sub: Subscriber, evening: date) -> tuple[int, str]:
        """(delivered evenings in a row, up to `evening`, since the last text heard; the
        stretch: the instant of that last text)."""
        zone = ZoneInfo(sub.timezone)
        window = 2 * self.care.silence_evenings
        days = [evening - timedelta(days=n) for n in range(window)]  # that evening first
        last = self.store.heard.last(sub.id) or 0.0
        run = 0
        for day, record in zip(days, self.store.nights.read_many(sub.id, days), strict=True):
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
        claims = self.store.send_claims
        if run >= 2 * self.care.silence_evenings and claims.claim(CALL, f"{sub.id}:{stretch}"):
            self.reviews.open(kind="silence", phone=sub.phone or "", subscriber_id=sub.id,
                              level="soon", category="silence",
                              text=f"no reply for {run} delivered evenings: call them", now=now)
            claims.finish(CALL, f"{sub.id}:{stretch}", "sent")
            return "call"
        if run >= self.care.silence_evenings and not checkin_state(self.store, sub.id, stretch):
            return "checkin"
        return ""

    def send_checkin(self, subscriber_id: str, evening: date, now: datetime) -> str:
        """The one check-in of this silent stretch: sent | already | skipped | missed | failed;
        CheckinRetry when it must be tried again."""
        sub = self.store.get(subscriber_id)
        if sub is None or (self.check(sub, evening, now) != "checkin"
                           and not self._unfinished(sub, evening)):
            return "skipped"  # they answered, paused or stopped meanwhile
        stretch = self.silent_evenings(sub, evening)[1]
        body = self.replies.in_language(sub.language).render("checkin")
        ledger = self.store.ledgers.sends(sub.id, f"{CHECKIN_KIND.name}:{stretch}",
                                          index=channels.get("sms").status_callbacks)

        def still_allowed() -> bool:
            # Read again after the claim: a STOP (or a new number) that came while the text
            # waited for its slot wins.
            fresh = self.store.get(sub.id)
            return (fresh is not None and fresh.sms_status == "active"
                    and fresh.phone == sub.phone and not fresh.is_paused_on(evening))

        out = Outgoing(CHECKIN_KIND, "sms", sub, sub.phone or "", ledger, body,
                       count_segments(body).segments,
                       deadline=now + timedelta(seconds=PACING_WAIT_SECONDS),
                       still_allowed=still_allowed)
        try:
            sent = self.path.send(out, now)
        except CheckinRetry:
            raise
        except RetryLater as exc:
            raise CheckinRetry(exc.delay, exc.reason, exc.backoff) from exc
        if sent == "missed":
            ledger.drop()  # no slot in time: the next delivered evening may try again
        if sent != "sent":
            log.info("check-in subscriber=%s stretch=%s outcome=%s", sub.id, stretch,
                     sent.replace(" ", "_"))
            return {"inactive": "skipped"}.get(sent, "already" if sent.startswith(
                "already") else sent)
        record = self.store.sends.read(sub.id, ledger.name)
        self.store.conversation.add(sub.id, {
            "dir": "out", "at": now_iso(now), "text": body, "kind": "checkin",
            "sid": record.get("id", ""), "status": record.get("status", "")})
        self.store.counters.incr(counters.loop("checkin_sent", iso_week(now.date())))
        log.info("check-in sent subscriber=%s stretch=%s", sub.id, stretch)
        return "sent"

    def _unfinished(self, sub: Subscriber, evening: date) -> bool:
        """A check-in of this stretch claimed but not final (a retry after a lost answer): the
        task goes on with it, so the send path can look it up."""
        stretch = self.silent_evenings(sub, evening)[1]
        return self.store.sends.state(sub.id, f"{CHECKIN_KIND.name}:{stretch}") in (
            "sending", "retry")


def checkin_state(store: Store, subscriber_id: str, stretch: str) -> str:
    """The check-in of a stretch: its send record (storage/sends.py), else a claim made before
    the check-in was a kind (storage/send_claims.py), so none goes twice across the upgrade."""
    return (store.sends.state(subscriber_id, f"{CHECKIN_KIND.name}:{stretch}")
            or store.send_claims.state(CHECKIN, f"{subscriber_id}:{stretch}"))


def heard_from(store: Store, subscriber_id: str, now: datetime) -> None:
    """A text from the person ends their silent stretch; when that stretch had a check-in,
    it counts as answered (once: the next text belongs to a new stretch)."""
    previous = store.heard.last(subscriber_id)
    if checkin_state(store, subscriber_id, str(int(previous or 0))) == "sent":
        store.counters.incr(counters.loop("checkin_answered", iso_week(now.date())))
    store.heard.mark(subscriber_id, now.timestamp())
