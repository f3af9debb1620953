"""The send path's guards (app/sending/guards.py): an unreadable subscriber record is skipped
and counted, in a dispatch batch and in a send task; a task naming an evening that is not
tonight or last night is rejected. Against a real Redis, the fake Twilio API and a real Celery
worker where Celery is involved.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import redis
import requests
from celery import Celery

from reminders.app.people.preferences import Enrolment, enrol
from reminders.domain.schedule import send_instant
from reminders.domain.subscriber import Subscriber
from reminders.storage import due_index, keys, nights, subscriber_codec
from reminders.wiring import Services
from testing.twilio_api import FakeTwilio
from tests.conftest import CeleryProcess, Cli, make_services, wait_until
from tests.faults.test_faults import due_now
from tests.webhook_client import serve

Starter = Callable[..., CeleryProcess]
PHONE = "+13125550142"
EVENING = date(2027, 1, 9)


def fast_env(twilio_env: dict[str, str], **extra: str) -> dict[str, str]:
    return {**twilio_env, "DISPATCH_INTERVAL_SECONDS": "1", "TWILIO_MPS": "200", **extra}


def metric(client: redis.Redis, name: str) -> int:
    return int(client.hget(keys.METRICS, name) or 0)


def corrupt(client: redis.Redis, subscriber_id: str, **fields: str) -> None:
    client.hset(keys.subscriber(subscriber_id), mapping=fields)  # type: ignore[arg-type]


def subscribe(svc: Services, phone: str = PHONE, **kw: object) -> Subscriber:
    request = Enrolment(**{"phone": phone, "timezone": "America/Chicago", "time": "20:00",
                           "confirmed": True, **kw})  # type: ignore[arg-type]
    return enrol(svc.store, svc.settings, request, datetime(2027, 1, 1, tzinfo=UTC))


def test_an_unreadable_record_is_skipped_and_the_rest_of_the_batch_is_sent(
    twilio_env: dict[str, str], fake_twilio: FakeTwilio, start_worker: Starter,
    start_beat: Starter,
) -> None:
    env = fast_env(twilio_env)
    svc = make_services(env)
    crowd = due_now(svc, 6)
    bad_zone, bad_time = crowd.ids[1], crowd.ids[4]
    zone = svc.store.require(crowd.phones[0]).timezone
    corrupt(svc.redis, bad_zone, **{subscriber_codec.TIMEZONE: "America/Nowhere"})
    corrupt(svc.redis, bad_time, **{subscriber_codec.TIME: "25:99"})
    good = [p for sid, p in zip(crowd.ids, crowd.phones, strict=True)
            if sid not in (bad_zone, bad_time)]
    worker = start_worker(env)
    start_beat(env)
    wait_until(lambda: len(fake_twilio.messages) >= 4, 60, "the four readable people's texts")
    wait_until(lambda: svc.redis.zcard(keys.CLAIMS) == 0, 30, "every claim to be released")
    assert sorted(m.to for m in fake_twilio.messages) == sorted(good)
    assert metric(svc.redis, "unreadable:dispatch") == 2
    # Still scheduled (a fix with `set` takes effect), but not again tonight.
    for sid in (bad_zone, bad_time):
        nxt = due_index.next_due(svc.redis, sid)
        assert nxt is not None and nxt > datetime.now(UTC).timestamp() + 3600
    assert f"subscriber={bad_zone}" in worker.log() and "reason=unreadable" in worker.log()

    # A task for the unreadable person (queued before the record went bad) is skipped and
    # counted: the worker carries on with the next one.
    broker = Celery(broker=env["REDIS_URL"])
    broker.send_task("reminders.send_reminder", args=[bad_zone, crowd.evening.isoformat()])
    wait_until(lambda: metric(svc.redis, "unreadable:send") == 1, 30, "the task to be skipped")
    assert "Traceback" not in worker.log()

    # Finding them reads every record: the recount does (and lists them for `stats` after).
    shown = json.loads(Cli(env)("stats", "--json", "--recount").stdout)
    assert shown["recount"]["drift"] == {  # the zone was changed behind the service's back
        f"zone:{zone}": {"kept": 6, "counted": 5},
        "zone:America/Nowhere": {"kept": 0, "counted": 1}}
    assert shown["unreadable"]["records"] == 2
    assert shown["unreadable"]["skipped"] == {"dispatch": 2, "send": 1}
    assert "Unreadable records: 2" in Cli(env)("stats").stdout
    with serve(svc) as base:
        body = requests.get(base + "/metrics", timeout=10).text
    assert 'reminders_unreadable_records_total{where="dispatch"} 2.0' in body


def test_deliver_skips_an_unreadable_record_and_records_the_evening_missed(
    twilio_services: Services, fake_twilio: FakeTwilio,
) -> None:
    svc = twilio_services
    sub = subscribe(svc)
    corrupt(svc.redis, sub.id, **{subscriber_codec.TIMEZONE: "America/Nowhere"})
    due = send_instant(EVENING, sub.send_time, ZoneInfo("America/Chicago"))
    member = keys.inflight_member(sub.id, EVENING)
    svc.redis.zadd(keys.INFLIGHT, {member: due.timestamp()})  # as the dispatcher marked it
    outcome = svc.sender.deliver(sub.id, EVENING, due)  # raised ZoneInfoNotFoundError
    assert outcome.channels == {"record": "unreadable"}
    assert metric(svc.redis, "unreadable:send") == 1
    record = nights.read(svc.redis, sub.id, EVENING)
    assert record["sms"] == "missed" and record["sms_reason"] == "unreadable"
    assert svc.redis.zscore(keys.INFLIGHT, member) is None  # not handed out again
    assert fake_twilio.message_attempts() == []


def test_a_task_for_an_evening_that_is_not_tonight_or_last_night_is_rejected(
    twilio_env: dict[str, str], fake_twilio: FakeTwilio, start_worker: Starter,
) -> None:
    env = fast_env(twilio_env)
    svc = make_services(env)
    crowd = due_now(svc, 1)
    [sid] = crowd.ids
    worker = start_worker(env)
    broker = Celery(broker=env["REDIS_URL"])
    bad_days = [crowd.evening + timedelta(days=1), crowd.evening + timedelta(days=300),
                crowd.evening - timedelta(days=9)]
    for day in bad_days:
        broker.send_task("reminders.send_reminder", args=[sid, day.isoformat()])
    wait_until(lambda: metric(svc.redis, "rejected:date") == 3, 30, "the three rejections")
    assert fake_twilio.message_attempts() == []
    for day in bad_days:  # no night record: the real evening is still free to be sent
        assert nights.read(svc.redis, sid, day) == {}
    assert "reason=date-out-of-range" in worker.log()
    broker.send_task("reminders.send_reminder", args=[sid, crowd.evening.isoformat()])
    [message] = fake_twilio.wait_for_messages(1, timeout=30)
    assert message.to == crowd.phones[0]
