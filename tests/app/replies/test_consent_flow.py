"""After STOP nothing is texted by any path until START; after START the reminder goes out.

A real beat and a real worker run throughout; the fake Twilio API is the only outside world.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from celery import Celery

from reminders.app.people.preferences import Enrolment, enrol
from reminders.entry.cli.runner import demo_zone
from reminders.storage import keys, nights
from testing.twilio_api import DEFAULT_AUTH_TOKEN, FakeTwilio
from tests.conftest import CeleryProcess, Cli, make_services, wait_until
from tests.webhook_client import WebhookClient, serve

PHONE = "+13125550142"


def test_stop_blocks_every_path_until_start(
    twilio_env: dict[str, str], twilio_cli: Cli, fake_twilio: FakeTwilio,
    start_worker: Callable[..., CeleryProcess], start_beat: Callable[..., CeleryProcess],
) -> None:
    env = {**twilio_env, "DISPATCH_INTERVAL_SECONDS": "1"}
    svc = make_services(env)
    now = datetime.now(UTC)
    zone, local = demo_zone(now)  # due this very minute, well inside the late limit
    sub = enrol(svc.store, svc.settings, Enrolment(phone=PHONE, timezone=zone,
                                                   time=local.strftime("%H:%M"), confirmed=True))
    evening = now.astimezone(ZoneInfo(zone)).date()
    worker = start_worker(env)
    start_beat(env)
    broker = Celery(broker=env["REDIS_URL"])

    with serve(svc) as base:
        web = WebhookClient(base, svc.settings.public_url, DEFAULT_AUTH_TOKEN)
        assert web.text(PHONE, "STOP").status_code == 200

        # 1. dispatch: a due entry that raced the STOP is claimed by beat and dropped.
        svc.redis.zadd(keys.DUE, {sub.id: now.timestamp() - 5})
        wait_until(lambda: svc.redis.zscore(keys.DUE, sub.id) is None
                   and svc.redis.zcard(keys.CLAIMS) == 0, 30, "the dispatcher to drop them")
        # 2. a task already queued (or a retry) for tonight.
        broker.send_task("reminders.send_reminder", args=[sub.id, evening.isoformat()])
        wait_until(lambda: "'sms': 'skipped'" in worker.log(), 30, "the queued task to skip")
        # 3. the operator's send-now.
        result = twilio_cli("send-now", PHONE)
        assert result.returncode == 0 and "sms: skipped" in result.stdout
        time.sleep(3)  # several more beats
        assert fake_twilio.message_attempts() == []
        assert nights.read(svc.redis, sub.id, evening)["sms_reason"] == "opted_out"

        # START: tonight is still young, so tonight's reminder goes out, once.
        assert web.text(PHONE, "START").status_code == 200
        broker.send_task("reminders.send_reminder", args=[sub.id, evening.isoformat()])
        broker.send_task("reminders.send_reminder", args=[sub.id, evening.isoformat()])
        [message] = fake_twilio.wait_for_messages(1, timeout=30)
        assert message.to == PHONE
        assert message.body == svc.renderer.tonight(sub, evening).sms.body
        wait_until(lambda: worker.log().count("'sms': 'already sent'") >= 1, 30,
                   "the duplicate task to finish")
        assert len(fake_twilio.messages) == 1
        assert svc.store.next_due(sub.id) is not None
