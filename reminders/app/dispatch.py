"""The dispatcher: claim the subscribers who are due, hand each evening to a sender, reschedule.

Claiming is one Lua script, so two beats (or two dispatchers) never take the same person. A
claim is a lease: if the dispatcher dies before it reschedules someone, the next tick puts them
back at their original due instant, so nobody is dropped from the schedule. Sending twice is
prevented further down, by the per-night record (see nights.py): enqueueing twice is harmless.
A record that cannot be read is skipped (guards.py) and tried again a day later, never allowed
to hold up the rest of its batch. An evening whose task keeps vanishing is handed out again once
per grace period until its late limit has passed (so at most late limit / grace + 1 times), then
recorded as missed: never earlier, since a slow or retrying task may still send it in time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import redis

from reminders.app import guards
from reminders.domain.schedule import from_epoch, local_date_for_instant, next_send_after
from reminders.storage import keys, nights
from reminders.storage.subscribers import Store

log = logging.getLogger(__name__)

CLAIM_LEASE_SECONDS = 300
# An unreadable record comes up again this much later (a fixed record is rescheduled at once).
UNREADABLE_RETRY_SECONDS = 24 * 3600

_CLAIM = """
local now = tonumber(ARGV[1])
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)
for _, id in ipairs(expired) do
  local origin = redis.call('HGET', KEYS[3], id)
  if origin and not redis.call('ZSCORE', KEYS[1], id) then
    redis.call('ZADD', KEYS[1], origin, id)
  end
  redis.call('ZREM', KEYS[2], id)
  redis.call('HDEL', KEYS[3], id)
end
local due = redis.call('ZRANGE', KEYS[1], '-inf', now, 'BYSCORE', 'LIMIT', 0, ARGV[3],
                       'WITHSCORES')
for i = 1, #due, 2 do
  redis.call('ZREM', KEYS[1], due[i])
  redis.call('ZADD', KEYS[2], ARGV[2], due[i])
  redis.call('HSET', KEYS[3], due[i], due[i + 1])
end
return due
"""

# Reschedule (ARGV: id, next score, id, next score, ...; "" drops them) only those this
# dispatcher still holds the claim on (it may have expired and been taken by another tick).
_FINISH = """
local done = 0
for i = 1, #ARGV, 2 do
  local id = ARGV[i]
  if redis.call('ZSCORE', KEYS[2], id) then
    redis.call('ZREM', KEYS[2], id)
    redis.call('HDEL', KEYS[3], id)
    if ARGV[i + 1] ~= '' then redis.call('ZADD', KEYS[1], ARGV[i + 1], id) end
    done = done + 1
  end
end
return done
"""

# Hand out again the evenings whose send task has not finished within the grace period; give up
# on those first handed out again (KEYS[2] keeps when) at least ARGV[4] seconds (the late limit)
# ago. Returns {to resend, given up}.
_SWEEP = """
local stale = redis.call('ZRANGE', KEYS[1], '-inf', ARGV[1], 'BYSCORE', 'LIMIT', 0, ARGV[3])
local now = tonumber(ARGV[2])
local resend, given_up = {}, {}
for _, member in ipairs(stale) do
  redis.call('HSETNX', KEYS[2], member, ARGV[2])
  if now - tonumber(redis.call('HGET', KEYS[2], member)) >= tonumber(ARGV[4]) then
    redis.call('ZREM', KEYS[1], member)
    redis.call('HDEL', KEYS[2], member)
    table.insert(given_up, member)
  else
    redis.call('ZADD', KEYS[1], ARGV[2], member)
    table.insert(resend, member)
  end
end
return {resend, given_up}
"""

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
    def __init__(self, client: redis.Redis, late_limit: timedelta, batch_size: int = 500,
                 grace: timedelta = timedelta(minutes=5)) -> None:
        self.redis = client
        self.store = Store(client)
        self.late_limit = late_limit
        self.batch_size = batch_size
        self.grace = grace
        self._claim = client.register_script(_CLAIM)
        self._finish = client.register_script(_FINISH)
        self._sweep = client.register_script(_SWEEP)

    def claim(self, now: datetime) -> list[tuple[str, float]]:
        lease_until = now.timestamp() + CLAIM_LEASE_SECONDS
        raw = self._claim(
            keys=[keys.DUE, keys.CLAIMS, keys.CLAIM_ORIGIN],
            args=[now.timestamp(), lease_until, self.batch_size],
        )
        pairs = []
        for i in range(0, len(raw), 2):
            member = raw[i].decode() if isinstance(raw[i], bytes) else raw[i]
            pairs.append((member, float(raw[i + 1])))
        return pairs

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
        self._record_lag(report)
        return report

    def _record_lag(self, report: DispatchReport) -> None:
        """How late after their instant people were handed to a sender (for /metrics)."""
        if not report.lag_seconds:
            return
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.hincrbyfloat(keys.METRICS, "dispatch_lag_seconds_sum", sum(report.lag_seconds))
            pipe.hincrby(keys.METRICS, "dispatch_lag_seconds_count", len(report.lag_seconds))
            pipe.hset(keys.METRICS, "dispatch_lag_seconds_last", max(report.lag_seconds))
            pipe.execute()

    def resend_stale(self, now: datetime, enqueue: Enqueue, report: DispatchReport,
                     grouped: Batch = nullcontext) -> None:
        """Evenings whose task vanished (broker restart, worker killed): hand them out again.

        Sending twice is impossible (the night record decides), so a task that was only slow
        costs one extra no-op task.
        """
        cutoff = (now - self.grace).timestamp()
        stale, given_up = self._sweep(keys=[keys.INFLIGHT, keys.INFLIGHT_RESENDS],
                                      args=[cutoff, now.timestamp(), self.batch_size,
                                            self.late_limit.total_seconds()])
        with grouped():
            for subscriber_id, day in map(_member, stale):
                log.warning("dispatch resend subscriber=%s date=%s reason=unfinished",
                            subscriber_id, day)
                enqueue(subscriber_id, day)
                report.resent += 1
        for subscriber_id, day in map(_member, given_up):
            log.warning("dispatch missed subscriber=%s date=%s reason=unfinished",
                        subscriber_id, day)
            nights.give_up(self.redis, subscriber_id, day, now, reason="unfinished")
            report.given_up += 1

    def _handle_batch(self, batch: list[tuple[str, float]], now: datetime, enqueue: Enqueue,
                      grouped: Batch, report: DispatchReport) -> None:
        """Plan every claimed person, then do the Redis work in a few pipelined round trips."""
        if not batch:
            return
        with self.redis.pipeline(transaction=False) as pipe:
            for subscriber_id, _ in batch:
                pipe.hgetall(keys.subscriber(subscriber_id))
            raws = pipe.execute()
        unreadable: list[guards.Unreadable] = []
        plans = [self._plan(sid, from_epoch(origin), raw, now, report, unreadable)
                 for (sid, origin), raw in zip(batch, raws, strict=True)]
        guards.count_unreadable(self.redis, "dispatch", unreadable)
        report.unreadable += len(unreadable)
        to_send = [p for p in plans if p.send]
        if to_send:
            # Marked before the hand-off, so a crash between the two still gets them resent.
            self.redis.zadd(keys.INFLIGHT, {keys.inflight_member(p.subscriber_id, p.local_date):
                                            now.timestamp() for p in to_send})
        done: list[Plan] = [p for p in plans if not p.send]
        try:
            with grouped():  # raises (on exit, at the latest) if the broker is down
                for plan in to_send:
                    enqueue(plan.subscriber_id, plan.local_date)
            done += to_send
            report.enqueued += len(to_send)
        finally:
            # Reschedule only who was handed over; the rest come back when their claim expires.
            if done:
                self._finish(keys=[keys.DUE, keys.CLAIMS, keys.CLAIM_ORIGIN],
                             args=[x for p in done for x in (p.subscriber_id, p.next_score)])

    def _plan(self, subscriber_id: str, due: datetime, raw: dict[bytes, bytes], now: datetime,
              report: DispatchReport, unreadable: list[guards.Unreadable]) -> Plan:
        try:
            sub, tz = guards.readable(raw, subscriber_id) if raw else (None, None)
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
            nights.record_missed(self.redis, sub, local_date, reason="dispatch late")
            log.warning("dispatch missed subscriber=%s date=%s lag=%.0fs", sub.id, local_date,
                        (now - due).total_seconds())
            report.missed += 1
        else:
            report.lag_seconds.append((now - due).total_seconds())
        return Plan(sub.id, local_date, str(int(nxt.utc.timestamp())), send=not late)


def _member(raw: bytes | str) -> tuple[str, date]:
    """An in-flight member "<subscriber id>:<local date>"."""
    subscriber_id, _, day = (raw.decode() if isinstance(raw, bytes) else raw).partition(":")
    return subscriber_id, date.fromisoformat(day)


@dataclass(frozen=True)
class Plan:
    """What the dispatcher does with one claimed person."""

    subscriber_id: str
    local_date: date
    next_score: str  # "" drops them from the due index
    send: bool
