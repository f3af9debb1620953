"""The weekly loop end to end: a week of replies through the signed webhook, then a real beat and a
real worker on the summary evening: the person's usual text, their weekly text and their
caregiver's copy, each once; a foot problem texted that evening reaches the caregiver once,
through the web app's hand-off to the worker.

The webhook server runs in this process; for the past evenings its clock is moved to each
evening (time-machine moves the clock, nothing of ours is patched). The summary evening is
real time: a zone where it is evening about two minutes from now, and WEEKLY_SUMMARY_DAY set
to that evening's weekday.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import time_machine
from celery import Celery

from reminders.app.people.preferences import Enrolment, enrol
from reminders.domain.weekly import WEEKDAYS
from reminders.entry.cli.runner import demo_zone
from testing.twilio_api import DEFAULT_AUTH_TOKEN, FakeTwilio
from tests.conftest import CeleryProcess, make_services, wait_until
from tests.webhook_client import WebhookClient, serve

PERSON = "+13125550142"
CAREGIVER = "+13125550177"


def test_a_week_of_evenings_then_one_weekly_text_and_one_caregiver_alert(
    twilio_env: dict[str, str], fake_twilio: FakeTwilio,
    start_worker: Callable[..., CeleryProcess], start_beat: Callable[..., CeleryProcess],
) -> None:
    now = datetime.now(UTC)
    target = (now + timedelta(seconds=150)).replace(second=0, microsecond=0)
    zone, local = demo_zone(target)
    tz = ZoneInfo(zone)
    summary = target.astimezone(tz).date()
    env = {**twilio_env, "DISPATCH_INTERVAL_SECONDS": "1",
           "WEEKLY_SUMMARY_DAY": WEEKDAYS[summary.weekday()]}
    svc = make_services(env)
    with time_machine.travel(datetime.combine(summary - timedelta(days=20), time(21), tz)):
        sub = enrol(svc.store, svc.settings, Enrolment(
            phone=PERSON, name="Ana Lopez", timezone=zone, time=local.strftime("%H:%M"),
            confirmed=True))
    svc.caregivers(now).add(sub, CAREGIVER, "Bob")
    with serve(svc) as base:
        web = WebhookClient(base, env["PUBLIC_URL"], DEFAULT_AUTH_TOKEN)
        assert "Once Ana agrees" in web.text(CAREGIVER, "YES").text
        assert "Bob will get your weekly summary" in web.text(PERSON, "CARE YES").text

        def evening(days_before: int, body: str) -> None:
            day = summary - timedelta(days=days_before)
            with time_machine.travel(datetime.combine(day, time(21, 30), tz), tick=True):
                assert web.text(PERSON, body).status_code == 200

        for n in (13, 10, 8):
            evening(n, "5")  # the week before: pain 5
        for n in (7, 5, 3, 2, 1):  # this week: DONE on 5 of 7, the last 3 in a row
            evening(n, "done")
        for n, score in ((6, "4"), (4, "4/10"), (3, "pain 5"), (1, "3")):
            evening(n, score)  # ... and pain 4 on average
        svc.store.reschedule(svc.store.require(PERSON))  # its evening is the real one
        expected = svc.weekly.preview(svc.store.require(PERSON), summary)
        assert expected["sms"]["body"].startswith(
            "Foot Care Reminders weekly: DONE on 5 of 7 evenings, 3 in a row. Pain was a "
            "little lower this week: 4 on average, 5 the week before.")
        assert len(fake_twilio.messages) == 1  # the invitation: nothing else before tonight

        worker = start_worker(env)
        start_beat(env)
        messages = fake_twilio.wait_for_messages(4, timeout=300)
        nightly, weekly, caregiver = messages[1:4]
        assert nightly.to == PERSON and nightly.created_at >= target
        assert weekly.to == PERSON and weekly.body == expected["sms"]["body"]
        assert caregiver.to == CAREGIVER and caregiver.body == expected["caregiver_sms"]
        assert "Ana's week: DONE on 5 of 7 evenings" in caregiver.body

        # tonight's foot problem: one alert, handed by the webhook to the worker
        posted = datetime.now(UTC)
        reply = web.text(PERSON, "my big toe turned black").text
        # A black toe can be gangrene: care now, not a call tomorrow.
        assert "urgent care or the ER" in reply
        [alert] = fake_twilio.wait_for_messages(5, timeout=60)[4:]
        # The caregiver hears who, what kind of problem and our advice, never her words.
        assert alert.to == CAREGIVER and "Ana" in alert.body and "urgent care" in alert.body
        assert "my big toe" not in alert.body and "turned" not in alert.body
        # measured, not asserted (pytest -s shows it): the issue asks for "within a minute"
        alert_delay = (alert.created_at - posted).total_seconds()
        weekly_delay = (weekly.created_at - nightly.created_at).total_seconds()
        print(f"\ncaregiver alert at the fake {alert_delay:.2f} s after the webhook; "
              f"weekly text {weekly_delay:.2f} s after the nightly one")

        # the same evening handed out again (a duplicate task): nothing more
        broker = Celery(broker=env["REDIS_URL"])
        broker.send_task("reminders.send_reminder", args=[sub.id, summary.isoformat()])
        wait_until(lambda: "'weekly': 'already sent'" in worker.log(), 60,
                   "the duplicate task to finish")
        assert len(fake_twilio.messages) == 5
    facts = svc.weekly.preview(sub, summary)["facts"]
    assert facts == {"done": 5, "of": 7, "streak": 3, "average": 4, "previous": 5,
                     "change": "little_lower"}

