"""Subscribe from the command line, then a real beat and a real worker text them on time."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from celery import Celery

from reminders.entry.cli.runner import demo_zone
from reminders.storage import nights
from reminders.wiring import Services
from testing.twilio_api import FakeTwilio
from tests.conftest import FROM_NUMBER, CeleryProcess, Cli, make_services, wait_until

PHONE = "+13125550142"


def test_enrolled_a_minute_ahead_gets_exactly_one_text_at_that_time(
    twilio_env: dict[str, str], twilio_cli: Cli, fake_twilio: FakeTwilio,
    start_worker: Callable[..., CeleryProcess], start_beat: Callable[..., CeleryProcess],
) -> None:
    env = {**twilio_env, "DISPATCH_INTERVAL_SECONDS": "1"}
    now = datetime.now(UTC)
    target = (now + timedelta(seconds=90)).replace(second=0, microsecond=0)
    zone, local = demo_zone(target)
    done = twilio_cli("subscribe", PHONE, "--name", "Ana", "--timezone", zone, "--time",
                      local.strftime("%H:%M"), "--confirmed")
    assert done.returncode == 0, done.stderr
    shown = json.loads(twilio_cli("show", PHONE, "--json").stdout)
    assert shown["next_send_utc"] == target.strftime("%Y-%m-%dT%H:%M:%SZ")
    local_date = target.astimezone(ZoneInfo(zone)).date().isoformat()
    expected = json.loads(twilio_cli("preview", PHONE, "--date", local_date, "--json").stdout)

    start_worker(env)
    start_beat(env)
    [message] = fake_twilio.wait_for_messages(1, timeout=180)
    assert message.created_at >= target, "sent before its time"
    assert message.created_at < target + timedelta(seconds=30), "sent late"
    assert message.to == PHONE and message.from_ == FROM_NUMBER
    assert message.body == expected["sms"]["body"]
    assert message.status_callback == env["PUBLIC_URL"] + "/sms/status"
    time.sleep(4)  # a few more beats: nothing else goes out
    assert len(fake_twilio.messages) == 1
    shown = json.loads(twilio_cli("show", PHONE, "--json").stdout)
    assert shown["last_delivery"]["date"] == local_date
    assert shown["last_delivery"]["status"] == "queued"
    assert shown["next_send_utc"] == (target + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_send_task_delivered_twice_sends_once(
    twilio_env: dict[str, str], twilio_services: Services, fake_twilio: FakeTwilio,
    start_worker: Callable[..., CeleryProcess],
) -> None:
    from reminders.app.people.preferences import Enrolment, enrol

    svc = twilio_services
    now = datetime.now(UTC)
    zone, local = demo_zone(now)
    sub = enrol(svc.store, svc.settings, Enrolment(phone=PHONE, timezone=zone,
                                                   time=local.strftime("%H:%M"), confirmed=True))
    local_date = now.astimezone(ZoneInfo(zone)).date()
    client = Celery(broker=twilio_env["REDIS_URL"])
    for _ in range(3):
        client.send_task("reminders.send_reminder", args=[sub.id, local_date.isoformat()])
    worker = start_worker(twilio_env, concurrency=2)
    fake_twilio.wait_for_messages(1, timeout=30)
    wait_until(lambda: worker.log().count("succeeded in") >= 3, 60, "all three tasks to finish")
    assert worker.log().count("{'sms': 'sent'}") == 1
    assert worker.log().count("{'sms': 'already sent'}") == 2
    assert len(fake_twilio.messages) == 1
    assert nights.read(svc.redis, sub.id, local_date)["sms"] == "sent"


def test_worker_retries_after_server_errors_and_sends_once(
    twilio_env: dict[str, str], fake_twilio: FakeTwilio,
    start_worker: Callable[..., CeleryProcess],
) -> None:
    from reminders.app.people.preferences import Enrolment, enrol

    svc = make_services(twilio_env)
    now = datetime.now(UTC)
    zone, local = demo_zone(now)
    sub = enrol(svc.store, svc.settings, Enrolment(phone=PHONE, timezone=zone,
                                                   time=local.strftime("%H:%M"), confirmed=True))
    local_date: date = now.astimezone(ZoneInfo(zone)).date()
    fake_twilio.fail_next(1, http_status=503)
    fake_twilio.fail_next(1, http_status=429, retry_after=1)
    Celery(broker=twilio_env["REDIS_URL"]).send_task(
        "reminders.send_reminder", args=[sub.id, local_date.isoformat()])
    start_worker(twilio_env)
    [message] = fake_twilio.wait_for_messages(1, timeout=60)
    assert message.to == PHONE
    assert len(fake_twilio.message_attempts()) == 3
