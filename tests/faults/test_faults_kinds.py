"""Fault injection for the kinds beyond the nightly text: the weekly text and the caregiver's
alert, each sent once whatever breaks, since they take the same send path.

Real Celery workers (and a beat for the weekly text), a real Redis, the fake Twilio API over
HTTP. The kill scenarios kill a worker with SIGKILL while two of its sends are held unanswered
at the provider, let Twilio accept them and start another worker; the two-beats scenarios run
two beats and two workers at once (the caregiver alert, which no beat dispatches, is handed off
twice per report, as a webhook Twilio retried would). Each watches past the broker's visibility
timeout, then counts duplicates, misses and the kept counts' drift (`stats --recount`) and
prints its fault line, as tests/faults/test_faults.py does for the nightly text. Redis crashes are
in test_faults_kinds_redis.py. Kept small (40 people) to keep the suite short.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from reminders.app.people.preferences import Enrolment, enrol
from reminders.app.records import stats
from reminders.domain.schedule import send_instant
from reminders.domain.weekly import week_key
from reminders.entry.cli.runner import demo_zone
from reminders.entry.web.app import care_handoff
from reminders.storage import caregivers, keys, nights
from reminders.storage.caregivers import YES
from reminders.storage.consent_log import ConsentEvent
from reminders.wiring import Services
from testing.twilio_api import FakeTwilio
from tests.conftest import CeleryProcess, make_services, record_fault_line, wait_until
from tests.faults.test_faults import VISIBILITY, fault_env, kill9

pytestmark = pytest.mark.faults

Starter = Callable[..., CeleryProcess]
PEOPLE = 40
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
ALERT = "Foot Care Reminders:"
SUMMARY = "Foot Care Reminders weekly:"


def enrol_many(svc: Services, count: int, zone: str, clock: str, since: datetime) -> list[str]:
    """`count` confirmed people, enrolled on `since` (weeks ago: a full week of history)."""
    return [enrol(svc.store, svc.settings, Enrolment(
        phone=f"+1312555{n:04d}", timezone=zone, time=clock, confirmed=True), since).id
        for n in range(count)]


def activate_caregivers(svc: Services, ids: list[str]) -> list[str]:
    """An active caregiver (both consents) for each person; their numbers."""
    carers = [f"+1773555{n:04d}" for n in range(len(ids))]
    for sid, carer in zip(ids, carers, strict=True):
        caregivers.link(svc.redis, sid, carer, "Bo",
                        ConsentEvent("caregiver", "caregiver_invited", "cli", carer))
        caregivers.set_consent(svc.redis, sid, "cg", YES,
                               ConsentEvent("caregiver", "caregiver_yes", "sms", "YES"), carer)
        caregivers.set_consent(svc.redis, sid, "pc", YES,
                               ConsentEvent("caregiver", "care_yes", "sms", "CARE YES"), carer)
    return carers


def raise_alerts(svc: Services, ids: list[str], times: int = 1) -> list[str]:
    """One urgent report per person, handed off `times` times each (what the webhook does);
    the alerts' keys, named by the report's instant as the webhook names them."""
    handoff = care_handoff(svc)
    now_ms = int(time.time() * 1000)
    alert_keys = [f"alert:{now_ms + n}" for n in range(len(ids))]
    for _ in range(times):
        for sid, key in zip(ids, alert_keys, strict=True):
            handoff(sid, key, "urgent:gangrene")
    return alert_keys


def summary_evening(env: dict[str, str], fake: FakeTwilio
                    ) -> tuple[date, dict[str, str], Services, list[str]]:
    """PEOPLE due this minute on their weekly summary evening, a full week of history each,
    whose usual text went out already (sent here, on a day without a summary), so a worker's
    only texts are the summaries; (the evening, the env with its summary day, services, ids)."""
    now = datetime.now(UTC)
    zone, local = demo_zone(now)
    tz = ZoneInfo(zone)
    evening = now.astimezone(tz).date()
    env = {**env, "WEEKLY_SUMMARY_DAY": DAYS[evening.weekday()]}
    before = make_services({**env, "WEEKLY_SUMMARY_DAY": DAYS[(evening.weekday() + 1) % 7]})
    ids = enrol_many(before, PEOPLE, zone, local.strftime("%H:%M"), now - timedelta(days=20))
    instant = send_instant(evening, local, tz)
    for sid in ids:
        nights.note(before.redis, sid, evening - timedelta(days=2), done="1")  # DONE that week
        assert before.sender.deliver(sid, evening, instant).channels == {"sms": "sent"}
    before.redis.zadd(keys.DUE, {sid: instant.timestamp() for sid in ids})
    fake.clear()
    return evening, env, before, ids


def count_drift(svc: Services) -> dict[str, Any]:
    """What counting every record again finds the kept counts off by (issue 31)."""
    return dict(stats.recount(svc.store, datetime.now(UTC)).fields)


def kill_while_two_are_held(fake: FakeTwilio, worker: CeleryProcess, after: int,
                            body_start: str) -> tuple[list[str], datetime]:
    """Once `after` such texts went out, hold the next two, kill -9 the worker waiting for
    them, and let Twilio accept what it asked for; (the numbers held, when it died)."""
    wait_until(lambda: sum(m.body.startswith(body_start) for m in fake.messages) >= after, 60,
               f"the first {after} texts")
    fake.hold_next(2)
    wait_until(lambda: fake.held == 2, 30, "two sends hanging at the provider")
    held = [r.form["To"] for r in fake.message_attempts() if r.status_code is None]
    kill9(worker)
    killed_at = datetime.now(UTC)
    fake.release_held()
    return held, killed_at


def settle_and_count(fake: FakeTwilio, phones: list[str], body_start: str,
                     fault_at: datetime, tick: Callable[[], object] = lambda: None,
                     ) -> tuple[Counter[str], float, float]:
    """Wait for everyone's text, then past the visibility timeout (a dead worker's task comes
    back only after it), calling `tick` all along (a supervisor); (texts per number,
    recovered in, watched)."""
    def ours() -> list[Any]:
        return [m for m in fake.messages if m.body.startswith(body_start)]

    wait_until(lambda: (tick(), {m.to for m in ours()} >= set(phones))[1], 180,
               "everyone's text")
    firsts: dict[str, datetime] = {}
    for message in ours():
        firsts.setdefault(message.to, message.created_at)
    recovered = (max(firsts.values()) - fault_at).total_seconds()
    watch_from = time.monotonic()
    while time.monotonic() - watch_from < VISIBILITY + 5:
        tick()
        time.sleep(0.5)
    per_phone = Counter(m.to for m in ours())
    return per_phone, recovered, time.monotonic() - watch_from


def line(scenario: str, per_phone: Counter[str], people: int, misses: int,
         recovered: float, watched: float, extra: str = "") -> str:
    duplicates = sum(n - 1 for n in per_phone.values() if n > 1)
    text = (f"scenario={scenario} subscribers={people} messages_sent={sum(per_phone.values())} "
            f"duplicates={duplicates} misses={misses} "
            f"watched={watched:.0f}s(visibility={VISIBILITY}s) recovered_in={recovered:.1f}s"
            + (f" {extra}" if extra else ""))
    print("\n" + text)
    record_fault_line(text)
    return text


def test_kill9_mid_weekly_text(twilio_env: dict[str, str], fake_twilio: FakeTwilio,
                               start_worker: Starter, start_beat: Starter) -> None:
    evening, env, before, ids = summary_evening(fault_env(twilio_env, TWILIO_MPS="20"),
                                                fake_twilio)
    phones = [f"+1312555{n:04d}" for n in range(PEOPLE)]
    worker = start_worker(env, concurrency=2, name="w1")
    start_beat(env)
    held, killed_at = kill_while_two_are_held(fake_twilio, worker, 10, SUMMARY)
    start_worker(env, concurrency=2, name="w2")
    per_phone, recovered, watched = settle_and_count(fake_twilio, phones, SUMMARY, killed_at)
    misses = sum(nights.read(before.redis, sid, evening).get("weekly") == "missed"
                 for sid in ids)
    line("kill9-mid-weekly-text/small", per_phone, PEOPLE, misses, recovered, watched)
    assert sorted(per_phone) == sorted(phones) and set(per_phone.values()) == {1}
    assert misses == 0 and len(held) == 2
    assert [m.body for m in fake_twilio.messages if not m.body.startswith(SUMMARY)] == []
    for phone in held:  # found at the provider and recorded, not sent again
        [message] = fake_twilio.messages_to(phone)
        sub = before.store.find(phone)
        assert sub is not None
        record = nights.read(before.redis, sub.id, evening)
        assert (record["weekly"], record["weekly_id"]) == ("sent", message.sid)


def test_kill9_mid_caregiver_alert(twilio_env: dict[str, str], fake_twilio: FakeTwilio,
                                   start_worker: Starter) -> None:
    env = fault_env(twilio_env, TWILIO_MPS="20")
    svc = make_services(env)
    ids = enrol_many(svc, PEOPLE, "America/Chicago", "20:00", datetime.now(UTC))
    carers = activate_caregivers(svc, ids)
    worker = start_worker(env, concurrency=2, name="w1")
    alert_keys = raise_alerts(svc, ids)
    held, killed_at = kill_while_two_are_held(fake_twilio, worker, 10, ALERT)
    start_worker(env, concurrency=2, name="w2")
    per_phone, recovered, watched = settle_and_count(fake_twilio, carers, ALERT, killed_at)
    misses = sum(caregivers.text_state(svc.redis, sid, key) != "sent"
                 for sid, key in zip(ids, alert_keys, strict=True))
    line("kill9-mid-caregiver-alert/small", per_phone, PEOPLE, misses, recovered, watched)
    assert sorted(per_phone) == sorted(carers) and set(per_phone.values()) == {1}
    assert misses == 0 and len(held) == 2
    people = {f"+1312555{n:04d}" for n in range(PEOPLE)}
    assert not any(m.to in people for m in fake_twilio.messages)  # nothing to the people


def test_two_beats_two_workers_weekly_and_caregiver_weekly(
    twilio_env: dict[str, str], fake_twilio: FakeTwilio, start_worker: Starter,
    start_beat: Starter,
) -> None:
    evening, env, before, ids = summary_evening(fault_env(twilio_env), fake_twilio)
    carers = activate_caregivers(before, ids)  # their copy: the care_weekly kind
    phones = [f"+1312555{n:04d}" for n in range(PEOPLE)]
    start_worker(env, concurrency=2, name="w1")
    start_worker(env, concurrency=2, name="w2")
    start_beat(env, name="b1")
    second_beat_at = datetime.now(UTC)
    start_beat(env, name="b2")
    per_phone, recovered, watched = settle_and_count(fake_twilio, phones + carers, "",
                                                     second_beat_at)
    week = week_key(evening)
    misses = sum(nights.read(before.redis, sid, evening).get("weekly") != "sent"
                 for sid in ids)
    misses += sum(caregivers.text_state(before.redis, sid, f"week:{week}") != "sent"
                  for sid in ids)
    drift = count_drift(before)
    line("two-beats-two-workers-weekly-and-caregiver-weekly/small", per_phone, PEOPLE,
         misses, recovered, watched, f"count_drift={len(drift)}")
    assert sorted(per_phone) == sorted(phones + carers) and set(per_phone.values()) == {1}
    assert misses == 0 and drift == {}
    assert all(m.body.startswith(SUMMARY) for m in fake_twilio.messages_to(phones[0]))


def test_two_workers_and_each_alert_handed_off_twice(
    twilio_env: dict[str, str], fake_twilio: FakeTwilio, start_worker: Starter,
) -> None:
    env = fault_env(twilio_env)
    svc = make_services(env)
    ids = enrol_many(svc, PEOPLE, "America/Chicago", "20:00", datetime.now(UTC))
    carers = activate_caregivers(svc, ids)
    start_worker(env, concurrency=2, name="w1")
    start_worker(env, concurrency=2, name="w2")
    started_at = datetime.now(UTC)
    alert_keys = raise_alerts(svc, ids, times=2)  # two tasks per report, on either worker
    per_phone, recovered, watched = settle_and_count(fake_twilio, carers, ALERT, started_at)
    misses = sum(caregivers.text_state(svc.redis, sid, key) != "sent"
                 for sid, key in zip(ids, alert_keys, strict=True))
    drift = count_drift(svc)
    line("two-workers-alert-handed-off-twice/small", per_phone, PEOPLE, misses, recovered,
         watched, f"count_drift={len(drift)}")
    assert sorted(per_phone) == sorted(carers) and set(per_phone.values()) == {1}
    assert misses == 0 and drift == {}
