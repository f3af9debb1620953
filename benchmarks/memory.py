"""Row 1: bytes per subscriber in Redis at a million subscribers, against one JSON string each."""

from __future__ import annotations

import json
import os
import statistics
import time
from datetime import UTC, datetime
from typing import Any

import redis

from benchmarks import population
from benchmarks.common import Context, Row, verdict
from benchmarks.dispatch import measure_naive
from reminders.settings import load_settings
from reminders.storage import keys
from reminders.storage.keys_counts import NAMES_PREFIX
from reminders.storage.subscriber_codec import to_hash
from reminders.storage.subscribers import ConsentEvent, Store

# A million, the size the goal is set for (the due index's 16,384 shards and phone buckets are
# a fixed cost that a smaller population spreads over too few people); about 5 minutes of the run.
# BENCH_MEMORY_SUBSCRIBERS=100000 python -m benchmarks --only memory for a quicker look.
N = int(os.environ.get("BENCH_MEMORY_SUBSCRIBERS", "1000000"))
GOAL = 300


def used_memory(client: redis.Redis) -> int:
    info: Any = client.info("memory")
    return int(info["used_memory"])


def usage(client: redis.Redis, key: str) -> int:
    return int(client.memory_usage(key, samples=0) or 0)


def run(ctx: Context) -> list[Row]:
    client = ctx.client()
    now = datetime.now(UTC).replace(microsecond=0)
    checked = population.verify_layout(ctx.client(1), ctx.client(2),
                                       load_settings(ctx.env()), now)
    client.flushall()
    before = used_memory(client)
    started = time.perf_counter()
    population.write(client, (population.make(n, now) for n in range(N)), now)
    elapsed = time.perf_counter() - started
    ours = (used_memory(client) - before) / N
    parts = _parts(client, now)
    ctx.shared["bulk_write_rate"] = N / elapsed
    measure_naive(ctx, client, N)
    client.flushall()
    json_total, json_record = _json_design(client, now)
    client.flushall()
    breakdown = ", ".join(f"{name} {value:.0f}" for name, value in parts.items())
    return [Row(
        benchmark=f"1. Bytes per subscriber in Redis ({N:,} subscribers)",
        figure=(f"{ours:.0f} B ({ours - parts['consent share']:.0f} B without the "
                f"consent-log event)"),
        goal=f"<= {GOAL} B",
        comparison=(f"one JSON string per subscriber (same indexes): {json_total:.0f} B "
                    f"(record alone {json_record:.0f} B vs our hash {parts['hash']:.0f} B)"),
        verdict=verdict(ours <= GOAL),
        how=(f"INFO memory used_memory before and after storing {N:,} SMS subscribers "
             f"(confirmed, with a first name), divided by {N:,}. Everything enrol() writes is "
             f"counted: the subscriber hash, the phone index entry (a field in one of "
             f"{keys.INDEX_BUCKETS:,} bucket hashes), the due-index entry, the name-index "
             f"entry (leaves of at most 128 names: storage/names.py), the kept counts and the "
             f"consent-log event. Written with the service's own Store._write in pipelines "
             f"(layout check: {checked}). MEMORY USAGE (SAMPLES 0) breakdown, bytes: "
             f"{breakdown}; sum {sum(parts.values()):.0f}. The comparison stores the same "
             f"fields as json.dumps(to_hash(sub)) in one string key per subscriber, with the "
             f"same phone index, due entry and consent event, measured the same way."),
    )]


def _parts(client: redis.Redis, now: datetime) -> dict[str, float]:
    sample = [population.make(n, now) for n in range(0, N, N // 200)]
    return {
        "hash": statistics.mean(usage(client, keys.subscriber(s.id)) for s in sample),
        "phone index share": _total_usage(client, keys.phone_index_pattern()) / N,
        "due share": (_total_usage(client, keys.DUE_SHARD_PREFIX + "*")
                      + usage(client, keys.DUE_NEXT)) / N,
        "consent share": usage(client, keys.CONSENT_LOG) / N,
        "name index share": _total_usage(client, NAMES_PREFIX + "*") / N,
    }


def _total_usage(client: redis.Redis, pattern: str) -> int:
    """MEMORY USAGE of every key matching `pattern`, added up (pipelined)."""
    names = list(client.scan_iter(match=pattern, count=1000))
    total = 0
    for start in range(0, len(names), 1000):
        with client.pipeline(transaction=False) as pipe:
            for name in names[start:start + 1000]:
                pipe.memory_usage(name, samples=0)
            total += sum(int(n or 0) for n in pipe.execute())
    return total


def _json_design(client: redis.Redis, now: datetime) -> tuple[float, float]:
    before = used_memory(client)
    event = ConsentEvent("sms", "confirmed", "cli")
    for start in range(0, N, 2000):
        with client.pipeline(transaction=False) as pipe:
            for n in range(start, min(N, start + 2000)):
                sub = population.make(n, now)
                entry = keys.phone_index(sub.phone or "")
                pipe.hset(entry.key, entry.field, sub.id)
                pipe.set(f"{keys.PREFIX}json:{sub.id}", json.dumps(to_hash(sub)))
                pipe.xadd(keys.CONSENT_LOG, event.fields(sub.id))  # type: ignore[arg-type]
                Store._schedule(pipe, sub, now)
            pipe.execute()
    total = (used_memory(client) - before) / N
    record = statistics.mean(
        usage(client, f"{keys.PREFIX}json:{population.make(n, now).id}")
        for n in range(0, N, N // 200))
    return total, record
