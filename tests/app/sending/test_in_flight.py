"""Sending at the provider's speed: a slow provider, its concurrency limit, the default worker.

Twilio answers a creation in 0.1-0.5 s and refuses requests beyond an account's concurrency
limit with 429 / 20429. The fake does both at the wire (testing/twilio_pace.py); the worker as
compose starts it (no -P, no -c) runs SEND_CONCURRENCY sender threads and halves how many it
keeps in flight after a 429 (app/sending/in_flight.py). Speed itself is measured by `make bench`.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable

import pytest

from reminders.app.sending.in_flight import SendWindow
from reminders.channels.base import DeliveryError
from reminders.channels.twilio_sms import TwilioSms
from reminders.entry.web.app import create_app
from reminders.settings import ConfigError, load_settings
from testing.twilio_api import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, FakeTwilio
from testing.twilio_pace import parse_latency
from tests.conftest import CeleryProcess, Cli, make_services, run_threads, wait_until
from tests.faults.test_faults import due_now

Starter = Callable[..., CeleryProcess]


def client(fake: FakeTwilio, pool_size: int) -> TwilioSms:
    return TwilioSms(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, "+15005550006", "", fake.url,
                     "https://reminders.example.org/sms/status", 30.0, pool_size)


def send_together(sms: TwilioSms, count: int) -> list[str]:
    """`count` creations started at once from `count` threads; each one's SID or error code."""
    start = threading.Barrier(count)
    results: list[str] = []
    lock = threading.Lock()

    def one(n: int) -> Callable[[], None]:
        def send() -> None:
            start.wait()
            try:
                result = sms.send_sms(f"+1312555{n:04d}", f"Text {n}").provider_id
            except DeliveryError as exc:
                result = exc.code
            with lock:
                results.append(result)
        return send

    run_threads([one(n) for n in range(count)])
    return results


def test_the_fake_serves_slow_creations_side_by_side() -> None:
    with FakeTwilio(latency=1.0) as fake:
        sms = client(fake, pool_size=100)
        results = send_together(sms, 100)
        sms.close()
        assert len(fake.messages) == 100 and all(r.startswith("SM") for r in results)
        assert sorted(m.body for m in fake.messages) == sorted(f"Text {n}" for n in range(100))
        # A global lock or a single-threaded server would have shown one at a time.
        assert fake.busiest >= 50


def test_the_fake_refuses_creations_beyond_its_concurrency_limit() -> None:
    with FakeTwilio(latency=1.0, max_concurrent=3) as fake:
        sms = client(fake, pool_size=10)
        results = Counter(send_together(sms, 10))
        sms.close()
    refused = [r for r in fake.message_attempts() if r.status_code == 429]
    assert results["20429"] == len(refused) >= 1
    assert results["20429"] + len(fake.messages) == 10 and len(fake.messages) >= 3
    assert {r.fault for r in refused} == {"busy"}


def test_latency_is_fixed_or_a_range() -> None:
    assert parse_latency("0.2") == 0.2
    assert parse_latency("0.1,0.5") == (0.1, 0.5)


def test_a_burst_of_429s_halves_the_window_once_and_successes_win_it_back() -> None:
    window = SendWindow(8)
    inside = threading.Barrier(4)

    def overloaded_while_in_flight() -> None:
        with window.slot():
            inside.wait()  # all four were in flight when the provider said "too many"
            window.overloaded()

    run_threads([overloaded_while_in_flight] * 4)
    assert window.limit == 4  # not 8 -> 4 -> 2 -> 1 -> 1
    for _ in range(4):
        with window.slot():
            window.succeeded()
    assert window.limit == 5  # one more per window's worth of successes
    with window.slot():
        window.overloaded()  # started after the cut: a new overload
    assert window.limit == 2 and window.in_flight == 0


def test_send_concurrency_is_sized_from_twilio_mps_and_checked() -> None:
    def size(**env: str) -> int:
        return load_settings(env, dotenv=False).send_concurrency

    assert size() == 4  # TWILIO_MPS=1: at least 4
    assert size(TWILIO_MPS="50") == 25  # 50 a second x 0.5 s per request
    assert size(TWILIO_MPS="225") == 100  # at most Twilio's ~100 concurrent requests
    assert size(TWILIO_MPS="225", SEND_CONCURRENCY="150") == 150
    with pytest.raises(ConfigError, match="SEND_CONCURRENCY"):
        size(SEND_CONCURRENCY="0")


def test_a_bad_send_concurrency_is_one_line(cli: Cli) -> None:
    result = Cli({**cli.env, "SEND_CONCURRENCY": "many"})("list")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "SEND_CONCURRENCY" in result.stderr


def test_the_default_worker_backs_off_from_the_provider_concurrency_limit(
    twilio_env: dict[str, str], fake_twilio: FakeTwilio, start_worker: Starter,
    start_beat: Starter,
) -> None:
    # 100 sender threads (TWILIO_MPS=200) against an account that takes 10 requests at once.
    env = {**twilio_env, "DISPATCH_INTERVAL_SECONDS": "1", "TWILIO_MPS": "200"}
    crowd = due_now(make_services(env), 200)
    fake_twilio.set_latency((0.1, 0.3))
    fake_twilio.limit_concurrency(10)
    worker = start_worker(env, concurrency=None)  # as compose starts it: no -P, no -c
    assert "concurrency: 100 (thread)" in worker.log(), worker.log()[:3000]
    start_beat(env)
    wait_until(lambda: crowd.served(fake_twilio), 180, "every subscriber's text")
    per_phone = Counter(m.to for m in fake_twilio.messages)
    assert sorted(per_phone) == sorted(crowd.phones) and set(per_phone.values()) == {1}
    assert "send concurrency lowered from 100 to 50" in worker.log()
    cuts = worker.log().count("send concurrency lowered")
    metrics = create_app(crowd.svc).test_client().get("/metrics").get_data(as_text=True)
    assert f'reminders_send_window_cuts_total{{channel="sms"}} {float(cuts)}' in metrics
    attempts = fake_twilio.message_attempts()
    refused = [n for n, r in enumerate(attempts) if r.status_code == 429]
    # Once the window has come down, the account's limit is mostly respected: AIMD probes
    # one above it now and then, it does not hammer.
    late = [n for n in refused if n >= len(attempts) // 2]
    print(f"\nattempts={len(attempts)} refused={len(refused)} in_second_half={len(late)}")
    assert len(late) <= len(attempts) // 10
