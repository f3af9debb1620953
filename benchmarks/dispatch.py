"""Row 2: a dispatch tick with 1 000 000 subscribers in the due index, 0 / 1 000 / 10 000 due.

Against a naive tick that reads every subscriber's hash and works out who is due (measured on
the 100 000 hashes of row 1, extrapolated linearly to 1 000 000).
"""

from __future__ import annotations

import base64
import cProfile
import json
import statistics
import time
from collections.abc import Callable
from contextlib import nullcontext
from datetime import UTC, date, datetime, timedelta
from typing import cast
from zoneinfo import ZoneInfo

import redis

from benchmarks import population
from benchmarks.common import (
    Context,
    Row,
    count_round_trips,
    fmt_ms,
    fmt_rate,
    profile_text,
    verdict,
)
from reminders.app.evenings.dispatch import Batch, Dispatcher
from reminders.domain.schedule import send_instant
from reminders.settings import load_settings
from reminders.storage import due_index, keys
from reminders.storage.subscriber_codec import from_hash
from reminders.wiring import build

TOTAL = 1_000_000
POOL = 10_000
IDLE_TICKS = 50
GOAL_IDLE = 0.005
GOAL_RATE = 10_000

Enqueue = Callable[[str, date], None]


# -- the naive comparison ----------------------------------------------------------------------

def naive_tick(client: redis.Redis, now: datetime, window: timedelta, enqueue: Enqueue) -> int:
    """Read every subscriber hash; enqueue those whose evening instant fell in the last window."""
    found = 0
    batch: list[bytes] = []
    for key in client.scan_iter(match=keys.subscriber_pattern(), count=1000):
        batch.append(key)
        if len(batch) >= 1000:
            found += _naive_batch(client, batch, now, window, enqueue)
            batch = []
    return found + _naive_batch(client, batch, now, window, enqueue)


def _naive_batch(client: redis.Redis, names: list[bytes], now: datetime, window: timedelta,
                 enqueue: Enqueue) -> int:
    with client.pipeline(transaction=False) as pipe:
        for name in names:
            pipe.hgetall(name)
        raws = pipe.execute()
    found = 0
    for name, raw in zip(names, raws, strict=True):
        if not raw:
            continue
        sub = from_hash({k.decode(): v.decode() for k, v in raw.items()},
                        keys.subscriber_id_of(name))
        if not sub.schedulable:
            continue
        tz = ZoneInfo(sub.timezone)
        local_day = now.astimezone(tz).date()
        instant = send_instant(local_day, sub.send_time, tz)
        if now - window < instant <= now:
            enqueue(sub.id, local_day)
            found += 1
    return found


def measure_naive(ctx: Context, client: redis.Redis, count: int) -> None:
    """Called by row 1 while its 100 000 hashes are stored."""
    started = time.perf_counter()
    naive_tick(client, datetime.now(UTC), timedelta(seconds=60), lambda s, d: None)
    elapsed = time.perf_counter() - started
    ctx.shared["naive"] = (count, elapsed)


def _naive_text(ctx: Context) -> tuple[str, float]:
    measured = cast(tuple[int, float], ctx.shared.get("naive", (0, 0.0)))
    count, elapsed = measured
    if not count:
        return "naive scan: not measured", 0.0
    at_total = elapsed * TOTAL / count
    return (f"naive scan of every hash: {at_total:,.1f} s at {TOTAL:,} (measured "
            f"{elapsed:,.2f} s on {count:,}, x{TOTAL // count} linear)"), at_total


# -- the real dispatcher -----------------------------------------------------------------------

class Bench:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.client = ctx.client()
        self.svc = build(load_settings(ctx.env()))
        self.dispatcher: Dispatcher = self.svc.dispatcher
        now = datetime.now(UTC)
        zone, local, _evening, self.instant = population.due_tonight(now)
        pool = [population.make(n, now, zone, local, salt=2) for n in range(POOL)]
        population.write(self.client, pool, now)  # scheduled for tomorrow evening
        self.pool = [s.id for s in pool]
        self._fill(TOTAL - POOL, now.timestamp())

    def _fill(self, count: int, now: float) -> None:
        """Everyone else: due at some instant over the next 24 hours (never during the run)."""
        for start in range(0, count, 10_000):
            due_index.schedule_many(self.client, {
                population.subscriber_id(n, salt=3): now + 300 + (n * 7919) % 86_000
                for n in range(start, min(count, start + 10_000))})
        total = due_index.size(self.client)
        if total != TOTAL:
            raise AssertionError(f"due index holds {total}, not {TOTAL}")

    def make_due(self, count: int) -> None:
        self.client.delete(keys.INFLIGHT, keys.CLAIMS, keys.CLAIM_ORIGIN, "celery")
        population.set_scores(self.client, self.pool[:count], self.instant)

    def tick(self, count: int, enqueue: Enqueue, grouped: Batch = nullcontext) -> float:
        self.make_due(count)
        started = time.perf_counter()
        report = self.dispatcher.tick(datetime.now(UTC), enqueue, grouped)
        elapsed = time.perf_counter() - started
        if report.claimed != count or report.enqueued != count:
            raise AssertionError(f"{count} due: claimed {report.claimed}, "
                                 f"enqueued {report.enqueued}")
        return elapsed

    def idle_ticks(self) -> list[float]:
        self.make_due(0)
        self.tick(0, _discard)  # loads the scripts
        return [self.tick(0, _discard) for _ in range(IDLE_TICKS)]

    def profile(self, count: int) -> str:
        """cProfile of one tick, plus how many Redis round trips it made per subscriber."""
        calls = count_round_trips(self.svc.redis)
        self.make_due(count)
        profiler = cProfile.Profile()
        profiler.enable()
        self.dispatcher.tick(datetime.now(UTC), lambda s, d: None)
        profiler.disable()
        return profile_text(profiler, f"Dispatcher.tick, {count} due, list enqueue: "
                            f"{calls[0] / count:.2f} Redis round trips per due subscriber")


def _discard(subscriber_id: str, local_date: date) -> None:
    pass


def _check_broker(ctx: Context) -> None:
    from reminders.entry.celery.app import app

    if app.conf.broker_url != ctx.redis_url:
        raise RuntimeError(f"Celery would publish to {app.conf.broker_url}, not the bench Redis")


def _publish_only(ctx: Context, count: int) -> float:
    """Celery's own publishing rate (apply_async one by one), the floor under a plain loop."""
    from reminders.entry.celery.app import send_reminder

    _check_broker(ctx)
    client = ctx.client()
    client.delete("celery")
    today = datetime.now(UTC).date().isoformat()
    started = time.perf_counter()
    for n in range(count):
        send_reminder.apply_async((population.subscriber_id(n, salt=2), today))
    elapsed = time.perf_counter() - started
    if client.llen("celery") != count:
        raise AssertionError("not every task reached the broker")
    client.delete("celery")
    return count / elapsed


def _evenings_queued(client: redis.Redis) -> int:
    """Evenings in the queued tasks (a send_batch task carries several), and clears them."""
    total = 0
    for raw in client.lrange("celery", 0, -1):
        first = json.loads(base64.b64decode(json.loads(raw)["body"]))[0][0]
        total += len(first) if isinstance(first, list) else 1
    client.delete("celery")
    return total


def run(ctx: Context) -> list[Row]:
    ctx.client().flushall()
    bench = Bench(ctx)
    idle = bench.idle_ticks()
    timings: dict[tuple[str, int], float] = {}
    for count in (1_000, 10_000):
        listed: list[tuple[str, date]] = []

        def collect(subscriber_id: str, local_date: date,
                    got: list[tuple[str, date]] = listed) -> None:
            got.append((subscriber_id, local_date))

        timings["list", count] = bench.tick(count, collect)
    from reminders.entry.celery.app import hand_off

    _check_broker(ctx)
    for count in (1_000, 10_000):
        publisher = hand_off()  # exactly what reminders.dispatch_due does
        timings["celery", count] = bench.tick(count, publisher.enqueue, publisher.grouped)
        queued = _evenings_queued(ctx.client())
        if queued != count:
            raise AssertionError(f"{count} due: {queued} evenings in the broker's tasks")
    publish = _publish_only(ctx, 5_000)
    if POOL / timings["list", POOL] < GOAL_RATE:
        ctx.note("Profile: dispatch tick", bench.profile(1_000))
    ctx.client().flushall()
    return _rows(ctx, idle, timings, publish)


def _rows(ctx: Context, idle: list[float], timings: dict[tuple[str, int], float],
          publish: float) -> list[Row]:
    naive, naive_seconds = _naive_text(ctx)
    median, worst = statistics.median(idle), max(idle)
    rows = [Row(
        benchmark=f"2a. Dispatch tick, 0 of {TOTAL:,} due",
        figure=f"{fmt_ms(median)} (max {fmt_ms(worst)})",
        goal=f"<= {fmt_ms(GOAL_IDLE)}",
        comparison=naive,
        verdict=verdict(median <= GOAL_IDLE),
        how=(f"{TOTAL:,} members in the due sorted set ({POOL:,} of them with their "
             f"subscriber hashes, the others due at some instant over the next 24 h), none "
             f"due. Dispatcher.tick (the service's own, built by services.build) timed "
             f"{IDLE_TICKS} times; median and worst. The naive tick SCANs fc:sub:*, HGETALLs "
             f"each hash (pipelined by 1 000) and computes tonight's instant in the person's "
             f"zone; its cost does not depend on how many are due."),
    )]
    for count in (1_000, 10_000):
        by_list, by_celery = timings["list", count], timings["celery", count]
        rate_list, rate_celery = count / by_list, count / by_celery
        rows.append(Row(
            benchmark=f"2{'b' if count == 1_000 else 'c'}. Dispatch, {count:,} of {TOTAL:,} due",
            figure=(f"list: {fmt_rate(rate_list)} ({fmt_ms(by_list)}); Celery: "
                    f"{fmt_rate(rate_celery)} ({fmt_ms(by_celery)})"),
            goal=f">= {GOAL_RATE:,}/s claimed and enqueued",
            comparison=(f"naive tick: {naive_seconds:,.0f} s = {count / naive_seconds:,.0f}/s; "
                        f"Celery apply_async one by one: {fmt_rate(publish)}"
                        if naive_seconds else naive),
            verdict=verdict(min(rate_list, rate_celery) >= GOAL_RATE),
            how=(f"{count:,} of the {TOTAL:,} set due this minute (their hashes stored, "
                 f"confirmed SMS subscribers), then one Dispatcher.tick: claim in batches "
                 f"of 500, load each hash, mark in flight, enqueue, reschedule. 'list': the "
                 f"enqueue callback appends to a list; 'Celery': dispatch_due's own hand-off "
                 f"(reminders/handoff.py: Celery-built send_reminder messages, each claimed "
                 f"batch pushed with one LPUSH) into the bench Redis. Checked: every one "
                 f"claimed and enqueued once, and that many tasks in the broker queue. "
                 f"Comparison: the naive tick over {TOTAL:,} (above) with the same people "
                 f"due, and Celery publishing 5 000 tasks one by one in a bare loop."),
        ))
    return rows
