"""The shared segments-per-second limit: never above it in any one-second window."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import redis

from reminders.storage.rate_limit import RateLimiter, paced_rate
from testing.twilio_api import FakeTwilio, count_segments
from tests.conftest import CeleryProcess, make_services, run_threads, wait_until
from tests.test_faults import due_now


def max_in_any_window(events: list[tuple[float, int]], window: float = 1.0) -> int:
    """Largest number of segments started within any half-open window of `window` seconds."""
    events = sorted(events)
    best, total, start = 0, 0, 0
    for end in range(len(events)):
        total += events[end][1]
        while events[end][0] - events[start][0] >= window:
            total -= events[start][1]
            start += 1
        best = max(best, total)
    return best


def test_threads_sharing_one_limit_stay_under_it(redis_client: redis.Redis) -> None:
    granted: list[tuple[float, int]] = []
    lock = threading.Lock()

    def worker() -> None:
        limiter = RateLimiter(redis.Redis(connection_pool=redis_client.connection_pool), 50.0)
        for _ in range(20):
            assert limiter.acquire(2, give_up_after=30)
            with lock:
                granted.append((time.monotonic(), 2))

    run_threads([worker] * 6)
    assert len(granted) == 120
    assert max_in_any_window(granted) <= 50


def test_64_threads_book_their_slots_without_polling(redis_client: redis.Redis) -> None:
    granted: list[tuple[float, int]] = []
    lock = threading.Lock()
    limiter = RateLimiter(redis_client, 200.0, max_segments=2)  # one client, as in a worker

    def sender() -> None:
        for _ in range(5):
            assert limiter.acquire(2, give_up_after=60)
            with lock:
                granted.append((time.monotonic(), 2))

    def script_calls() -> int:
        stats = redis_client.info("commandstats")
        return sum(int(stats.get(f"cmdstat_{name}", {}).get("calls", 0))
                   for name in ("evalsha", "eval"))

    before = script_calls()
    run_threads([sender] * 64)
    assert len(granted) == 320
    assert max_in_any_window(granted) <= 200
    # One booking per send (plus one per sender that woke too late and booked again), not a
    # call per thread at every free instant.
    calls = script_calls() - before
    print(f"\nbookings={calls} sends={len(granted)}")
    assert calls < 2 * len(granted)


def test_pacing_leaves_room_for_one_early_message_where_affordable() -> None:
    assert paced_rate(50, 2) == 48  # two segments of margin, 4 %
    assert paced_rate(225, 2) == 225 * 0.96  # 4 % is more than one message there
    assert paced_rate(1, 2) == 0.9  # never more than 10 % below a small limit
    assert paced_rate(50, 1) == 50 * 0.96


def test_a_slot_that_cannot_come_in_time_is_refused(redis_client: redis.Redis) -> None:
    limiter = RateLimiter(redis_client, 1.0)
    assert limiter.acquire(5, give_up_after=1)  # books the next 5 seconds
    assert not limiter.acquire(1, give_up_after=1)


def test_two_workers_together_respect_twilio_mps(
    twilio_env: dict[str, str], fake_twilio: FakeTwilio,
    start_worker: Callable[..., CeleryProcess], start_beat: Callable[..., CeleryProcess],
) -> None:
    env = {**twilio_env, "DISPATCH_INTERVAL_SECONDS": "1", "TWILIO_MPS": "40"}
    crowd = due_now(make_services(env), 120)
    start_worker(env, concurrency=2, name="w1")
    start_worker(env, concurrency=2, name="w2")
    start_beat(env)
    wait_until(lambda: len(fake_twilio.messages) >= 120, 120, "every text")
    # Every message creation the fake received, timed when its request arrived (not when it
    # was booked in Redis): what Twilio counts against the account's limit.
    arrivals = [(r.time.timestamp(), count_segments(r.form.get("Body", "")))
                for r in fake_twilio.message_attempts()]
    assert len(arrivals) == 120
    assert max_in_any_window(arrivals) <= 40
    assert len({m.to for m in fake_twilio.messages}) == len(crowd.ids)
