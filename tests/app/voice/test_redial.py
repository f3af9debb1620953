"""An evening call that did not reach the person (busy, no answer, failed: its signed status
callback) is tried once more VOICE_RETRY_MINUTES later inside the late limit, then recorded
missed with the reason; a completed call is recorded as such and never called again.

The second call is the task a worker runs at the hand-off's time (Sender.deliver, the one
send path); the hand-off itself is recorded here instead of going to a broker.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine

from reminders.app.sending.retry import RetryLater
from reminders.storage import keys, nights
from reminders.storage.consent_log import ConsentEvent
from reminders.wiring import Services
from testing.twilio_api import FakeTwilio
from tests.app.voice.test_voice import CALLER, DAY, local, person
from tests.conftest import make_services
from tests.webhook_client import PUBLIC_URL, serve


@pytest.fixture
def svc(twilio_env: dict[str, str], fake_twilio: FakeTwilio
        ) -> Iterator[tuple[Services, list[tuple[str, str, datetime]]]]:
    services = make_services({**twilio_env, "VOICE_RETRY_MINUTES": "10",
                              "LATE_LIMIT_MINUTES": "30"})
    handed: list[tuple[str, str, datetime]] = []
    with serve(services) as base:
        services.redial_handoff = lambda *args: handed.append(args)
        fake_twilio.calls.proxy = (PUBLIC_URL, base)
        yield services, handed


def test_a_busy_line_is_called_once_more_after_ten_minutes_then_missed_with_the_reason(
        svc: tuple[Services, list[tuple[str, str, datetime]]], fake_twilio: FakeTwilio
        ) -> None:
    services, handed = svc
    with time_machine.travel(local(DAY, time(20, 0, 5)), tick=False) as clock:
        sub = person(services, CALLER, "voice")
        now = datetime.now(UTC)
        assert services.sender.deliver(sub.id, DAY, now).channels == {"voice": "sent"}
        [first] = fake_twilio.calls.to(CALLER)
        assert fake_twilio.calls.finish(first.sid, "busy") == 204
        assert fake_twilio.calls.finish(first.sid, "busy") == 204  # Twilio's retry: once
        assert handed == [(sub.id, DAY.isoformat(), now + timedelta(minutes=10))]
        record = nights.read(services.redis, sub.id, DAY)
        assert (record["voice"], record["voice_status"]) == ("retry", "busy")
        # A task that runs early waits for the retry time; no call is placed.
        with pytest.raises(RetryLater):
            services.sender.deliver(sub.id, DAY, now + timedelta(minutes=2))
        assert len(fake_twilio.calls.to(CALLER)) == 1

        clock.move_to(local(DAY, time(20, 10, 5)))
        later = datetime.now(UTC)
        assert services.sender.deliver(sub.id, DAY, later).channels == {"voice": "sent"}
        first_again, second = fake_twilio.calls.to(CALLER)
        assert first_again.sid == first.sid and second.sid != first.sid
        assert fake_twilio.calls.finish(second.sid, "no-answer") == 204
        record = nights.read(services.redis, sub.id, DAY)
        assert (record["voice"], record["voice_reason"]) == ("missed", "no-answer")
        assert len(handed) == 1  # one retry only
        assert services.sender.deliver(sub.id, DAY, later).channels == {
            "voice": "already missed"}
        assert len(fake_twilio.calls.to(CALLER)) == 2


def test_no_retry_that_would_land_after_the_late_limit(
        svc: tuple[Services, list[tuple[str, str, datetime]]], fake_twilio: FakeTwilio
        ) -> None:
    services, handed = svc
    with time_machine.travel(local(DAY, time(20, 25)), tick=False):
        sub = person(services, CALLER, "voice")
        services.sender.deliver(sub.id, DAY, datetime.now(UTC))
        [call] = fake_twilio.calls.to(CALLER)
        assert fake_twilio.calls.finish(call.sid, "failed") == 204
    assert handed == []
    record = nights.read(services.redis, sub.id, DAY)
    assert (record["voice"], record["voice_reason"]) == ("missed", "failed")


def test_a_completed_call_is_recorded_and_not_called_again(
        svc: tuple[Services, list[tuple[str, str, datetime]]], fake_twilio: FakeTwilio
        ) -> None:
    services, handed = svc
    with time_machine.travel(local(DAY, time(20, 0, 5)), tick=False):
        sub = person(services, CALLER, "voice")
        services.sender.deliver(sub.id, DAY, datetime.now(UTC))
        [call] = fake_twilio.calls.to(CALLER)
        fake_twilio.calls.answer(call.sid)
        assert fake_twilio.calls.finish(call.sid, "completed") == 204
    record = nights.read(services.redis, sub.id, DAY)
    assert (record["voice"], record["voice_status"], handed) == ("sent", "completed", [])


def test_calls_keep_to_twilio_cps_on_their_own_pace_not_the_texts(
        twilio_env: dict[str, str], fake_twilio: FakeTwilio) -> None:
    """Eight people called at once by four threads with TWILIO_CPS=2: never more than two
    calls started in any second (the calls' own slots), while TWILIO_MPS is 100."""
    from tests.app.sending.test_rate_limit import max_in_any_window
    from tests.conftest import run_threads

    services = make_services({**twilio_env, "TWILIO_CPS": "2", "TWILIO_MPS": "100"})
    with time_machine.travel(local(DAY, time(20, 0, 5)), tick=True):
        people = [person(services, f"+1312555019{n}", "voice") for n in range(8)]
        now = datetime.now(UTC)

        def call(n: int) -> None:
            for sub in people[n::4]:
                assert services.sender.deliver(sub.id, DAY, now).channels == {"voice": "sent"}

        run_threads([lambda n=n: call(n) for n in range(4)])
    arrivals = [(r.time.timestamp(), 1) for r in fake_twilio.requests_log
                if r.method == "POST" and r.path.endswith("/Calls.json")]
    assert len(arrivals) == 8 == len(fake_twilio.calls.placed)
    assert max_in_any_window(arrivals) <= 2
    assert services.redis.exists(keys.VOICE_RATE) and not services.redis.exists(keys.SMS_RATE)


def test_the_capacity_forecast_counts_the_calls_at_twilio_cps(
        twilio_env: dict[str, str]) -> None:
    """Three callers due at 20:00 at TWILIO_CPS=0.01 (a call per 100 s) cannot all be called
    within a one-minute late limit, although their texts could: the forecast says so; a STOP
    takes a caller out of the calls' queue."""
    import json

    from tests.conftest import Cli

    env = {**twilio_env, "TWILIO_CPS": "0.01", "TWILIO_MPS": "100", "LATE_LIMIT_MINUTES": "1"}
    services = make_services(env)
    with time_machine.travel(local(DAY, time(12, 0)), tick=True):
        people = [person(services, f"+1312555018{n}", "voice") for n in range(3)]
        person(services, "+13125550189", "sms")
        report = json.loads(Cli(env)("capacity", "--json").stdout)
        assert report["calls"] == {"cps": 0.01, "people": 3, "at_risk": True,
                                   "worst_delay_seconds": 200.0}
        assert report["at_risk"] is True and report["people"] == 4
        services.store.opt_out_sms(people[0].id, ConsentEvent("sms", "opted_out", "sms", "STOP"))
        after = json.loads(Cli(env)("capacity", "--json").stdout)
    assert after["calls"]["people"] == 2 and after["calls"]["worst_delay_seconds"] == 100.0
