"""Row 8: the operators' side at a million subscribers: the console's pages, `stats` and a
/metrics scrape read kept counts and indexes; compared, in the same run, with the full scans
they replaced (every record read for `stats` and People search, the whole due index twice for
Tonight).

Each page is fetched over real HTTP from the real app (werkzeug, one request at a time, a
logged-in operator): p50 and p99 of REPEAT requests, and the Redis time each costs (the sum of
INFO commandstats' usec before and after, per request: what the page holds Redis for, in
total). The due index is counted first, as the dispatcher's periodic check does (its time is
reported), so Tonight reads that count. `stats --recount` then counts every record again and
must find no drift.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import redis
import requests
from werkzeug.serving import make_server

from benchmarks import population
from benchmarks.common import Context, Row, fmt_ms, verdict
from reminders.app.console import operators
from reminders.app.evenings import capacity
from reminders.app.records import stats
from reminders.domain.subscriber import Subscriber
from reminders.entry.web.app import create_app
from reminders.settings import load_settings
from reminders.storage import due_index, keys
from reminders.storage import flags as flag_lists
from reminders.storage.keys_counts import NAMES_PREFIX
from reminders.storage.subscribers import Store
from reminders.wiring import build

N = int(os.environ.get("BENCH_OPS_SUBSCRIBERS", "1000000"))
REPEAT = 30
PAGE_GOAL = 0.300
METRICS_REDIS_GOAL = 0.005
PAGES = (
    ("Tonight", "/console/"),
    ("People: name prefix", "/console/people?q=robert+17"),
    ("People: phone, any format", "/console/people?q=(312)+200-1234"),
    ("People: state filter, page 100", "/console/people?state=sms:active&page=100"),
    ("People: flagged", "/console/people?state=flagged&page=3"),
    ("one person", "/console/people/%2B13122000042"),
    ("/metrics", "/metrics"),
)
PASSWORD = "bench password 123"
WRITES = 10_000  # subscriber writes timed, twice (as they were; renamed)


def redis_usec(client: redis.Redis) -> int:
    found: Any = client.info("commandstats")
    return sum(int(v["usec"]) for k, v in found.items() if k != "cmdstat_info")


def person(i: int, now: datetime) -> Subscriber:
    """Person i of the bench: a name that differs per person, 1 in 100 flagged."""
    sub = dataclasses.replace(population.make(i, now), name=f"{population.NAMES[i % 8]} {i}")
    return (dataclasses.replace(sub, flag_until=now.date() + timedelta(days=5))
            if i % 100 == 0 else sub)


def seed(client: redis.Redis, now: datetime) -> float:
    """N people (a name that differs per person, 1 in 100 flagged), as enrol() stores them."""
    started = time.perf_counter()

    population.write(client, (person(i, now) for i in range(N)), now)
    for i in range(0, N, 100):
        flag_lists.add(client, population.subscriber_id(i), {
            "at": "2026-01-01T20:00:00Z", "category": "wound", "text": "a blister"},
            now.timestamp())
    return time.perf_counter() - started


def timed(client: redis.Redis, call: Callable[[], object], repeat: int
          ) -> tuple[list[float], float]:
    """(wall seconds of each call, Redis seconds per call)."""
    times = []
    before = redis_usec(client)
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    redis_s = (redis_usec(client) - before) / 1e6 / repeat
    # Shown as it goes: a long run cut short still leaves its figures in the log.
    print(f"  p50 {fmt_ms(statistics.median(times))} p99 {fmt_ms(p99(times))} "
          f"Redis {fmt_ms(redis_s)} ({repeat}x)", flush=True)
    return times, redis_s


def p99(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def old_stats(store: Store) -> Counter[str]:
    """What `stats` did before: every record read and decoded."""
    found: Counter[str] = Counter()
    for sub in store.all(unreadable=[]):
        found[f"sms:{sub.sms_status}"] += 1
    return found


def old_search_full(store: Store) -> int:
    matched = 0
    for sid, values in _fields_of_all(store):
        matched += "robert 17" in values[0].lower() or bool(sid == "")
    return matched


def _fields_of_all(store: Store) -> Any:
    cursor = None
    while cursor != 0:
        cursor, names = store.redis.scan(cursor or 0, match=keys.subscriber_pattern(),
                                         count=1000)
        with store.redis.pipeline(transaction=False) as pipe:
            for name in names:
                pipe.hmget(name, "n", "p", "email", "sms", "em")
            for name, values in zip(names, pipe.execute(), strict=True):
                yield keys.subscriber_id_of(name), [(v or b"").decode() for v in values]


def write_cost(client: redis.Redis, now: datetime, count: int = WRITES) -> tuple[float, float]:
    """Redis time of one subscriber write (the subscriber_replace script: the record, the kept
    counts, the name index), in microseconds: (record rewritten as it was, name changed)."""
    store = Store(client)
    found = []
    for rename in (False, True):
        client.config_resetstat()
        for start in range(0, count, 500):
            with client.pipeline(transaction=False) as pipe:
                for i in range(start, min(count, start + 500)):
                    sub = person(i * 37 % N, now)
                    if rename:
                        sub = dataclasses.replace(sub, name=f"{sub.name} B")
                    store._write(pipe, sub, [], now)
                pipe.execute()
        found.append(float(client.info("commandstats")["cmdstat_evalsha"]["usec_per_call"]))
    return found[0], found[1]


def run(ctx: Context) -> list[Row]:
    client = ctx.client()
    client.flushall()
    now = datetime.now(UTC).replace(microsecond=0)
    before_memory = int(client.info("memory")["used_memory"])
    wrote = seed(client, now)
    print(f"  wrote {N:,} people in {wrote:.0f} s", flush=True)
    name_bytes = sum(int(client.memory_usage(k, samples=0) or 0)
                     for k in client.scan_iter(match=NAMES_PREFIX + "*")) / N
    per_person = (int(client.info("memory")["used_memory"]) - before_memory) / N
    same_us, renamed_us = write_cost(client, now)
    print(f"  one write: {same_us:.0f} us of Redis (unchanged), {renamed_us:.0f} us (renamed)",
          flush=True)
    svc = build(load_settings(ctx.env(), dotenv=False))
    operators.add(Store(client), "bench@example.org", PASSWORD, now, "bench")

    count_times, count_redis = timed(client, lambda: capacity.due_load(Store(client), now), 3)
    results: dict[str, tuple[list[float], float]] = {}
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server("127.0.0.1", 0, create_app(svc), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        http = _logged_in(base)
        for label, path in PAGES:
            print(f"  {label}:", flush=True)
            http.get(base + path)  # warm (templates compiled, connections open)
            results[label] = timed(client, _getter(http, base + path), REPEAT)
    finally:
        server.shutdown()
    results["stats"] = timed(client, lambda: stats.compute(Store(client), 7, now), REPEAT)

    recount_started = time.perf_counter()
    drift = stats.recount(svc.store, now)
    recount_s = time.perf_counter() - recount_started
    print(f"  recount {recount_s:.0f} s, drift {drift.fields}; the old scans:", flush=True)

    old: dict[str, tuple[list[float], float]] = {
        "stats (every record decoded)": timed(client, lambda: old_stats(svc.store), 1),
        "People search (SCAN + HMGET of every record)": timed(
            client, lambda: old_search_full(svc.store), 1),
        "Tonight's due-index read (twice per view, plus the stats scan)": timed(
            client, lambda: due_index.count_by_minute(client, int(now.timestamp()), 1440), 1),
    }
    client.flushall()

    pages = {k: v for k, v in results.items() if k != "/metrics"}
    worst = max(p99(t) for t, _ in pages.values())
    metrics_redis = results["/metrics"][1]
    figure = "; ".join(f"{label} p50 {fmt_ms(statistics.median(t))} p99 {fmt_ms(p99(t))} "
                       f"(Redis {fmt_ms(r)})" for label, (t, r) in results.items())
    comparison = "; ".join(f"{label}: {fmt_ms(t[0])} (Redis {fmt_ms(r)})"
                           for label, (t, r) in old.items())
    ok = worst <= PAGE_GOAL and metrics_redis <= METRICS_REDIS_GOAL and not drift.fields
    return [Row(
        benchmark=f"8. Operators' pages at {N:,} subscribers",
        figure=(f"{figure}; stats --recount {recount_s:.0f} s, drift {len(drift.fields)} "
                f"field(s) over {drift.records:,} records"),
        goal=(f"every page p99 <= {PAGE_GOAL * 1000:.0f} ms, /metrics <= "
              f"{METRICS_REDIS_GOAL * 1000:.0f} ms of Redis time, recount 0 drift"),
        comparison=f"the full scans they replaced: {comparison}",
        verdict=verdict(ok),
        how=(f"{N:,} people written with the service's own Store._write (names 'Robert 17', "
             f"1 in 100 flagged; {wrote:.0f} s); {per_person:.0f} B per person in Redis in "
             f"all, of which the name index {name_bytes:.0f} B. One subscriber write (the "
             f"subscriber_replace script: record, kept counts, name index; INFO commandstats "
             f"evalsha usec per call over {WRITES:,} Store._write of existing people): "
             f"{same_us:.0f} us rewritten as it was, {renamed_us:.0f} us with a new name "
             f"(the due-index entry, written outside the script, is not in it). The due index "
             f"counted first "
             f"as the dispatcher's check does every 10 minutes (capacity.due_load: "
             f"{fmt_ms(statistics.median(count_times))}, Redis {fmt_ms(count_redis)}, in "
             f"scripts of 64 shards); Tonight reads that count. Each page fetched {REPEAT} "
             f"times over HTTP from the real app (werkzeug, logged in): p99 = the "
             f"slowest of the {REPEAT}; Redis time = INFO commandstats usec summed, per "
             f"request (a script's commands count in the script and again by name: the "
             f"due-index counts' Redis time is overstated). `stats` = stats.compute in-process. "
             f"The comparisons ran once each, on the same data, as the code before issue 31 "
             f"did them."),
    )]


def _logged_in(base: str) -> requests.Session:
    http = requests.Session()
    page = http.get(base + "/console/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    http.post(base + "/console/login", data={"email": "bench@example.org",
                                            "password": PASSWORD, "csrf_token": token})
    return http


def _getter(http: requests.Session, url: str) -> Callable[[], None]:
    def get() -> None:
        response = http.get(url, allow_redirects=False)
        if response.status_code != 200:
            raise RuntimeError(f"{url}: HTTP {response.status_code}")
    return get
