"""The shared segments-per-second limit: never above it in any one-second window."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import redis

from reminders.storage.rate_limit import WIRE_SLACK, RateLimiter, paced_rate
from testing.twilio_api import FakeTwilio, count_segments
from tests.conftest import CeleryProcess, make_services, run_threads, wait_until
from tests.faults.test_faults import due_now


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
    # Asserted on the schedule booked in Redis (its own clock) and on each thread never being
    # let go before its slot: the instant a thread records after that is the GIL's business
    # (64 threads on 2 cores), and the wire is checked by the two-workers test below.
    slots: list[tuple[float, int]] = []
    early: list[float] = []
    lock = threading.Lock()
    limiter = RateLimiter(redis_client, 200.0, max_segments=2)  # one client, as in a worker

    def sender() -> None:
        for _ in range(5):
            slot = limiter.acquire(2, give_up_after=60)
            released = time.monotonic()
            assert slot is not None
            with lock:
                slots.append((slot.booked, 2))
                if released < slot.starts:
                    early.append(slot.starts - released)

    def script_calls() -> int:
        stats = redis_client.info("commandstats")
        return sum(int(stats.get(f"cmdstat_{name}", {}).get("calls", 0))
                   for name in ("evalsha", "eval"))

    before = script_calls()
    run_threads([sender] * 64)
    assert len(slots) == 320
    assert not early, f"{len(early)} threads let go before their slot started"
    assert max_in_any_window(slots) <= 200
    # One booking per send (plus one per sender that woke too late and booked again), not a
    # call per thread at every free instant.
    calls = script_calls() - before
    print(f"\nbookings={calls} sends={len(slots)}")
    assert calls < 2 * len(slots)


def test_pacing_leaves_room_for_one_late_message_where_affordable() -> None:
    # In a second of arrivals lie the slots of 1 + WIRE_SLACK seconds plus one message at the
    # window's edge: the margin holds both, up to 10 % of a small limit.
    assert paced_rate(40, 2) == 40 - (2 + 40 * WIRE_SLACK)
    assert paced_rate(40, 2) * (1 + WIRE_SLACK) + 2 <= 40
    assert paced_rate(225, 2) == 225 * 0.96  # 4 % is more than that there
    assert paced_rate(1, 2) == 0.9  # never more than 10 % below a small limit
    assert paced_rate(50, 1) == 50 - (1 + 50 * WIRE_SLACK)


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
