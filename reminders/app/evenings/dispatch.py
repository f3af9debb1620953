"""The dispatcher: claim the subscribers who are due, hand each evening to a sender, reschedule.

Claiming is one Lua script, so two beats (or two dispatchers) never take the same person. A
claim is a lease: if the dispatcher dies before it reschedules someone, the next tick puts them
back at their original due instant, so nobody is dropped from the schedule. Sending twice is
prevented further down, by the per-night record (see nights.py): enqueueing twice is harmless.
A record that cannot be read is skipped (sending/guards.py) and tried again a day later, never
allowed to hold up the rest of its batch. An evening whose task keeps vanishing is handed out again
once per grace period until its late limit has passed (so at most late limit / grace + 1 times),
then recorded as missed: never earlier, since a slow or retrying task may still send it in time.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from reminders.app.evenings import capacity
from reminders.app.sending import guards
from reminders.domain.schedule import from_epoch, local_date_for_instant, next_send_after
from reminders.domain.subscriber import Subscriber
from reminders.storage.subscriber_codec import Undecodable
from reminders.storage.subscribers import Store

log = logging.getLogger(__name__)

CLAIM_LEASE_SECONDS = 300
# An unreadable record comes up again this much later (a fixed record is rescheduled at once).
UNREADABLE_RETRY_SECONDS = 24 * 3600

Enqueue = Callable[[str, date], None]
# Groups a claimed batch's hand-offs (one broker round trip for all); the hand-offs count as
# done only once it exits without an error.
Batch = Callable[[], AbstractContextManager[object]]


@dataclass
class DispatchReport:
    claimed: int = 0
    enqueued: int = 0
    missed: int = 0
    dropped: int = 0
    resent: int = 0
    unreadable: int = 0
    given_up: int = 0
    lag_seconds: list[float] = field(default_factory=list)


class Dispatcher:
    def __init__(self, store: Store, late_limit: timedelta, batch_size: int = 500,
                 grace: timedelta = timedelta(minutes=5),
                 capacity_limits: capacity.Limits | None = None) -> None:
        # With limits, a tick also checks tonight's load now and then (capacity.check). This
        # process asks Redis whether it is its turn only once per period (time.monotonic), so
        # an ordinary tick costs no extra round trip.
        self.capacity_limits = capacity_limits
        self._capacity_due = 0.0
        self.store = store
        self.late_limit = late_limit
        self.batch_size = batch_size
        self.grace = grace

    def claim(self, now: datetime) -> list[tuple[str, float]]:
        return self.store.due.claim(now.timestamp(), now.timestamp() + CLAIM_LEASE_SECONDS,
                                    self.batch_size)

    def tick(self, now: datetime, enqueue: Enqueue, grouped: Batch = nullcontext
             ) -> DispatchReport:
        """Claim everyone due at `now`, in batches, and hand each evening to `enqueue`.

        `grouped` wraps each batch's hand-offs (a broker publish batch, flushed when it exits).
        """
        report = DispatchReport()
        while True:
            batch = self.claim(now)
            self._handle_batch(batch, now, enqueue, grouped, report)
            report.claimed += len(batch)
            if len(batch) < self.batch_size:
                break
        self.resend_stale(now, enqueue, report, grouped)
        self.store.counters.record_lag(report.lag_seconds)
        if self.capacity_limits is not None and time.monotonic() >= self._capacity_due:
            self._capacity_due = time.monotonic() + capacity.CHECK_PERIOD_SECONDS
            capacity.check(self.store, self.capacity_limits, now)
        return report

    def resend_stale(self, now: datetime, enqueue: Enqueue, report: DispatchReport,
                     grouped: Batch = nullcontext) -> None:
        """Evenings whose task vanished (broker restart, worker killed): hand them out again.

        Sending twice is impossible (the night record decides), so a task that was only slow
        costs one extra no-op task.
        """
        stale, given_up = self.store.inflight.sweep((now - self.grace).timestamp(),
                                                    now.timestamp(), self.batch_size,
                                                    self.late_limit.total_seconds())
        with grouped():
            for subscriber_id, day in stale:
                log.warning("dispatch resend subscriber=%s date=%s reason=unfinished",
                            subscriber_id, day)
                enqueue(subscriber_id, day)
                report.resent += 1
        for subscriber_id, day in given_up:
            log.warning("dispatch missed subscriber=%s date=%s reason=unfinished",
                        subscriber_id, day)
            self.store.nights.give_up(subscriber_id, day, now, reason="unfinished")
            report.given_up += 1

    def _handle_batch(self, batch: list[tuple[str, float]], now: datetime, enqueue: Enqueue,
                      grouped: Batch, report: DispatchReport) -> None:
        """Plan every claimed person, then do the Redis work in a few pipelined round trips."""
        if not batch:
            return
        people = self.store.read_many([subscriber_id for subscriber_id, _ in batch])
        unreadable: list[guards.Unreadable] = []
        plans = [self._plan(sid, from_epoch(origin), found, now, report, unreadable)
                 for (sid, origin), found in zip(batch, people, strict=True)]
        guards.count_unreadable(self.store, "dispatch", unreadable)
        report.unreadable += len(unreadable)
        to_send = [p for p in plans if p.send]
        if to_send:
            # Marked before the hand-off, so a crash between the two still gets them resent.
            self.store.inflight.mark([(p.subscriber_id, p.local_date) for p in to_send],
                                     now.timestamp())
        done: list[Plan] = [p for p in plans if not p.send]
        try:
            with grouped():  # raises (on exit, at the latest) if the broker is down
                for plan in to_send:
                    enqueue(plan.subscriber_id, plan.local_date)
            done += to_send
            report.enqueued += len(to_send)
        finally:
            # Reschedule only who was handed over; the rest come back when their claim expires.
            self.store.due.finish([(p.subscriber_id, p.next_score) for p in done])

    def _plan(self, subscriber_id: str, due: datetime, found: Subscriber | Undecodable | None,
              now: datetime, report: DispatchReport, unreadable: list[guards.Unreadable]
              ) -> Plan:
        try:
            sub, tz = guards.readable(found, subscriber_id) if found is not None else (None, None)
        except guards.Unreadable as exc:
            # Kept in the schedule, a day on: fixing the record (`set`) reschedules it.
            unreadable.append(exc)
            retry_at = max(due, now).timestamp() + UNREADABLE_RETRY_SECONDS
            return Plan(subscriber_id, due.date(), str(int(retry_at)), send=False)
        if sub is None or tz is None or not sub.schedulable:
            log.info("dispatch skip subscriber=%s reason=%s", subscriber_id,
                     "gone" if sub is None else "no active channel")
            report.dropped += 1
            return Plan(subscriber_id, due.date(), "", send=False)
        local_date = local_date_for_instant(due, sub.send_time, tz) or due.astimezone(tz).date()
        nxt = next_send_after(sub.send_time, tz, max(due, now - self.late_limit))
        late = now - due > self.late_limit
        if late:
            # Never send a reminder long after its evening: record it as missed instead.
            self.store.nights.record_missed(sub, local_date, reason="dispatch late")
            log.warning("dispatch missed subscriber=%s date=%s lag=%.0fs", sub.id, local_date,
                        (now - due).total_seconds())
            report.missed += 1
        else:
            report.lag_seconds.append((now - due).total_seconds())
        return Plan(sub.id, local_date, str(int(nxt.utc.timestamp())), send=not late)


@dataclass(frozen=True)
class Plan:
    """What the dispatcher does with one claimed person."""

    subscriber_id: str
    local_date: date
    next_score: str  # "" drops them from the due index
    send: bool
