"""Fault injection for the evening call: one call per person per evening whatever breaks,
since a call takes the same send path as a text.

Real Celery workers and a beat, a real Redis, the fake Twilio's Calls resource over HTTP. A
worker is killed with SIGKILL while two of its calls are held unanswered at the provider (who
then places them); and calls are answered after the client's timeout (placed, answer lost).
Either way the next attempt must find the call in the Calls list (by To and start time) and
not dial again. Each prints its fault line (duplicates, misses) as tests/faults/test_faults.py does.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime

import pytest

from reminders.storage import keys, nights
from reminders.storage.consent_log import ConsentEvent
from reminders.wiring import Services
from testing.twilio_api import FakeTwilio
from tests.conftest import make_services, wait_until
from tests.faults.test_faults import VISIBILITY, Crowd, due_now, fault_env, kill9
from tests.faults.test_faults_kinds import Starter, line

pytestmark = pytest.mark.faults
PEOPLE = 30


def callers(svc: Services) -> Crowd:
    """PEOPLE due this minute who chose the evening call (and only it)."""
    crowd = due_now(svc, PEOPLE)
    due = svc.redis.zscore(keys.DUE, crowd.ids[0])
    for sid in crowd.ids:
        sub = svc.store.get(sid)
        assert sub is not None
        svc.store.save(sub, sub.with_changes(channels=frozenset({"voice"}),
                                             voice_status="active"),
                       [ConsentEvent("voice", "opted_in", "cli", "agreed on the phone")])
    # The save scheduled them from now on (tomorrow): back to tonight's instant, as due_now.
    svc.redis.zadd(keys.DUE, dict.fromkeys(crowd.ids, due))
    return crowd


def calls_per_phone(fake: FakeTwilio) -> Counter[str]:
    return Counter(call.to for call in fake.calls.placed)


def settle(fake: FakeTwilio, crowd: Crowd, fault_at: datetime) -> tuple[Counter[str], float,
                                                                         float]:
    """Everyone called, then past the visibility timeout (a dead worker's task comes back
    only after it); (calls per number, recovered in, watched)."""
    wait_until(lambda: set(calls_per_phone(fake)) >= set(crowd.phones), 120, "every call")
    recovered = (max(c.created_at for c in fake.calls.placed) - fault_at).total_seconds()
    watch_from = time.monotonic()
    time.sleep(VISIBILITY + 5)
    return calls_per_phone(fake), recovered, time.monotonic() - watch_from


def check(crowd: Crowd, fake: FakeTwilio, per_phone: Counter[str]) -> int:
    misses = sum(nights.read(crowd.svc.redis, sid, crowd.evening).get("voice") == "missed"
                 for sid in crowd.ids)
    assert sorted(per_phone) == sorted(crowd.phones) and set(per_phone.values()) == {1}
    assert misses == 0 and fake.messages == []  # calls only: no text went out
    for sid in crowd.ids:  # each recorded with the call Twilio has
        record = nights.read(crowd.svc.redis, sid, crowd.evening)
        sub = crowd.svc.store.get(sid)
        assert sub is not None and sub.phone is not None
        [call] = fake.calls.to(sub.phone)
        assert (record["voice"], record["voice_id"]) == ("sent", call.sid)
    return misses


def test_kill9_mid_call(twilio_env: dict[str, str], fake_twilio: FakeTwilio,
                        start_worker: Starter, start_beat: Starter) -> None:
    env = fault_env(twilio_env, TWILIO_MPS="20")
    crowd = callers(make_services(env))
    worker = start_worker(env, concurrency=2, name="w1")
    start_beat(env)
    wait_until(lambda: len(fake_twilio.calls.placed) >= 8, 60, "the first calls")
    fake_twilio.hold_next(2)
    wait_until(lambda: fake_twilio.held == 2, 30, "two calls hanging at the provider")
    held = [r.form["To"] for r in fake_twilio.requests_log
            if r.path.endswith("/Calls.json") and r.method == "POST" and r.status_code is None]
    kill9(worker)
    killed_at = datetime.now(UTC)
    fake_twilio.release_held()  # Twilio places what the dead worker asked for
    start_worker(env, concurrency=2, name="w2")
    per_phone, recovered, watched = settle(fake_twilio, crowd, killed_at)
    misses = check(crowd, fake_twilio, per_phone)
    line("kill9-mid-call/voice", per_phone, PEOPLE, misses, recovered, watched)
    assert len(held) == 2


def test_call_answers_lost_after_the_clients_timeout(
        twilio_env: dict[str, str], fake_twilio: FakeTwilio, start_worker: Starter,
        start_beat: Starter) -> None:
    env = fault_env(twilio_env, TWILIO_MPS="20")
    crowd = callers(make_services(env))
    fake_twilio.answer_late_next(4, seconds=3.0)  # placed at once, answered after 2 s
    fake_twilio.hang_next(3, seconds=3.0, then_accept=True)  # placed late, answer lost too
    start_worker(env, concurrency=2, name="w1")
    start_beat(env)
    wait_until(lambda: fake_twilio.calls.placed, 60, "the first call")
    first_at = fake_twilio.calls.placed[0].created_at
    per_phone, recovered, watched = settle(fake_twilio, crowd, first_at)
    misses = check(crowd, fake_twilio, per_phone)
    line("lost-call-answers/voice", per_phone, PEOPLE, misses, recovered, watched)
    faults = Counter(r.fault for r in fake_twilio.requests_log if r.path.endswith("/Calls.json")
                     and r.method == "POST")
    assert (faults["late"], faults["hang"]) == (4, 3), faults
