"""Fault injection for the kinds beyond the nightly text: the weekly text and the caregiver's
alert, each sent once whatever breaks, since they take the same send path.

Real Celery workers (and a beat for the weekly text), a real Redis, the fake Twilio API over
HTTP. Each scenario kills a worker with SIGKILL while two of its sends are held unanswered at
the provider, lets Twilio accept them, starts another worker and watches past the broker's
visibility timeout; then it counts duplicates and misses and prints its fault line, as
tests/test_faults.py does for the nightly text. Kept small (40 people) to keep the suite short.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from reminders.app.preferences import Enrolment, enrol
from reminders.domain.schedule import send_instant
from reminders.entry.cli.runner import demo_zone
from reminders.entry.web.app import care_handoff
from reminders.storage import caregivers, keys, nights
from reminders.storage.caregivers import YES
from reminders.storage.consent_log import ConsentEvent
from reminders.wiring import Services
from testing.twilio_api import FakeTwilio
from tests.conftest import CeleryProcess, make_services, record_fault_line, wait_until
from tests.test_faults import VISIBILITY, fault_env, kill9

pytestmark = pytest.mark.faults

Starter = Callable[..., CeleryProcess]
PEOPLE = 40
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def enrol_many(svc: Services, count: int, zone: str, clock: str, since: datetime) -> list[str]:
    """`count` confirmed people, enrolled on `since` (weeks ago: a full week of history)."""
    return [enrol(svc.store, svc.settings, Enrolment(
        phone=f"+1312555{n:04d}", timezone=zone, time=clock, confirmed=True), since).id
        for n in range(count)]


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
                     killed_at: datetime) -> tuple[Counter[str], float, float]:
    """Wait for everyone's text, then past the visibility timeout (a dead worker's task comes
    back only after it); (texts per number, recovered in, watched)."""
    wait_until(lambda: {m.to for m in fake.messages if m.body.startswith(body_start)}
               >= set(phones), 120, "everyone's text")
    ours = [m for m in fake.messages if m.body.startswith(body_start)]
    firsts: dict[str, datetime] = {}
    for message in ours:
        firsts.setdefault(message.to, message.created_at)
    recovered = (max(firsts.values()) - killed_at).total_seconds()
    watch_from = time.monotonic()
    time.sleep(VISIBILITY + 5)
    per_phone = Counter(m.to for m in fake.messages if m.body.startswith(body_start))
    return per_phone, recovered, time.monotonic() - watch_from


def line(scenario: str, per_phone: Counter[str], people: int, misses: int,
         recovered: float, watched: float) -> str:
    duplicates = sum(n - 1 for n in per_phone.values() if n > 1)
    text = (f"scenario={scenario} subscribers={people} messages_sent={sum(per_phone.values())} "
            f"duplicates={duplicates} misses={misses} "
            f"watched={watched:.0f}s(visibility={VISIBILITY}s) recovered_in={recovered:.1f}s")
    print("\n" + text)
    record_fault_line(text)
    return text


def test_kill9_mid_weekly_text(twilio_env: dict[str, str], fake_twilio: FakeTwilio,
                               start_worker: Starter, start_beat: Starter) -> None:
    now = datetime.now(UTC)
    zone, local = demo_zone(now)
    tz = ZoneInfo(zone)
    evening = now.astimezone(tz).date()
    env = fault_env(twilio_env, TWILIO_MPS="20",
                    WEEKLY_SUMMARY_DAY=DAYS[evening.weekday()])
    # Tonight's usual text went out already (sent here, on a day without a summary), so the
    # worker's only texts are the summaries: the kill lands on one of them.
    before = make_services({**env, "WEEKLY_SUMMARY_DAY": DAYS[(evening.weekday() + 1) % 7]})
    ids = enrol_many(before, PEOPLE, zone, local.strftime("%H:%M"), now - timedelta(days=20))
    instant = send_instant(evening, local, tz)
    for sid in ids:
        nights.note(before.redis, sid, evening - timedelta(days=2), done="1")  # DONE that week
        assert before.sender.deliver(sid, evening, instant).channels == {"sms": "sent"}
    before.redis.zadd(keys.DUE, {sid: instant.timestamp() for sid in ids})
    fake_twilio.clear()
    phones = [f"+1312555{n:04d}" for n in range(PEOPLE)]

    worker = start_worker(env, concurrency=2, name="w1")
    start_beat(env)
    summary = "Foot Care Reminders weekly:"
    held, killed_at = kill_while_two_are_held(fake_twilio, worker, 10, summary)
    start_worker(env, concurrency=2, name="w2")
    per_phone, recovered, watched = settle_and_count(fake_twilio, phones, summary, killed_at)
    misses = sum(nights.read(before.redis, sid, evening).get("weekly") == "missed"
                 for sid in ids)
    line("kill9-mid-weekly-text/small", per_phone, PEOPLE, misses, recovered, watched)
    assert sorted(per_phone) == sorted(phones) and set(per_phone.values()) == {1}
    assert misses == 0 and len(held) == 2
    assert [m.body for m in fake_twilio.messages if not m.body.startswith(summary)] == []
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
    now = datetime.now(UTC)
    ids = enrol_many(svc, PEOPLE, "America/Chicago", "20:00", now)
    carers = [f"+1773555{n:04d}" for n in range(PEOPLE)]
    for sid, carer in zip(ids, carers, strict=True):
        caregivers.link(svc.redis, sid, carer, "Bo",
                        ConsentEvent("caregiver", "caregiver_invited", "cli", carer))
        caregivers.set_consent(svc.redis, sid, "cg", YES,
                               ConsentEvent("caregiver", "caregiver_yes", "sms", "YES"), carer)
        caregivers.set_consent(svc.redis, sid, "pc", YES,
                               ConsentEvent("caregiver", "care_yes", "sms", "CARE YES"), carer)
    worker = start_worker(env, concurrency=2, name="w1")
    handoff = care_handoff(svc)  # what the webhook does after an urgent report
    for n, sid in enumerate(ids):
        handoff(sid, f"alert:{1000 + n}", "urgent:gangrene")
    alert = "Foot Care Reminders:"
    held, killed_at = kill_while_two_are_held(fake_twilio, worker, 10, alert)
    start_worker(env, concurrency=2, name="w2")
    per_phone, recovered, watched = settle_and_count(fake_twilio, carers, alert, killed_at)
    states = [caregivers.text_state(svc.redis, sid, f"alert:{1000 + n}")
              for n, sid in enumerate(ids)]
    misses = sum(state != "sent" for state in states)
    line("kill9-mid-caregiver-alert/small", per_phone, PEOPLE, misses, recovered, watched)
    assert sorted(per_phone) == sorted(carers) and set(per_phone.values()) == {1}
    assert misses == 0 and len(held) == 2
    people = {f"+1312555{n:04d}" for n in range(PEOPLE)}
    assert not any(m.to in people for m in fake_twilio.messages)  # nothing to the people
