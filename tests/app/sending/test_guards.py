"""Hardening of the send path.

Unreadable records, send-now against a busy provider, the late limit while pacing, untrusted
broker messages and SMTP after a crash: each against a real Redis, the fake Twilio API or the
fake SMTP server, and a real Celery worker where Celery is involved.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import redis
import requests
from celery import Celery

from reminders.app.evenings.nightly import RetryLater
from reminders.app.people.preferences import Enrolment, enrol
from reminders.domain.schedule import send_instant
from reminders.domain.subscriber import Subscriber
from reminders.storage import due_index, keys, nights, subscriber_codec
from reminders.wiring import Services
from testing.smtp import FakeSmtp
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


# -- finding 3: one unreadable record ------------------------------------------------------------

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


def test_the_sweep_gives_up_on_an_evening_whose_task_keeps_vanishing(
    twilio_services: Services, fake_twilio: FakeTwilio,
) -> None:
    svc = twilio_services
    sub = subscribe(svc)
    due = send_instant(EVENING, sub.send_time, ZoneInfo(sub.timezone))
    member = keys.inflight_member(sub.id, EVENING)
    svc.redis.zadd(keys.INFLIGHT, {member: due.timestamp()})
    handed: list[str] = []
    dispatcher = svc.dispatcher
    late, grace = svc.sender.late_limit, dispatcher.grace
    now = due
    while now < due + 3 * late:  # every task handed out is lost before it runs
        now += grace + timedelta(seconds=1)
        dispatcher.tick(now, lambda sid, day: handed.append(f"{sid}:{day.isoformat()}"))
        if now < due + late:  # still sendable: never given up before its late limit
            assert svc.redis.zscore(keys.INFLIGHT, member) is not None
    assert set(handed) == {member}
    assert len(handed) <= late / grace + 2  # bounded: once per grace period, then no more
    assert svc.redis.zscore(keys.INFLIGHT, member) is None
    assert svc.redis.hget(keys.INFLIGHT_RESENDS, member) is None
    record = nights.read(svc.redis, sub.id, EVENING)
    assert record["sms"] == "missed" and record["sms_reason"] == "unfinished"
    assert fake_twilio.message_attempts() == []


# -- finding 8: send-now against a busy provider ------------------------------------------------

@pytest.mark.parametrize("status", [429, 500])
def test_send_now_hands_the_evening_to_a_worker_when_the_provider_is_busy(
    status: int, twilio_env: dict[str, str], fake_twilio: FakeTwilio, start_worker: Starter,
) -> None:
    svc = make_services(twilio_env)
    subscribe(svc)
    start_worker(twilio_env)
    fake_twilio.fail_next(1, http_status=status, retry_after=1)
    result = Cli(twilio_env)("send-now", PHONE)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1 and "handed to a worker" in lines[0], lines
    [message] = fake_twilio.wait_for_messages(1, timeout=60)
    assert message.to == PHONE
    again = Cli(twilio_env)("send-now", PHONE)
    assert again.returncode == 0 and "sms: already sent" in again.stdout
    assert len(fake_twilio.messages) == 1
    assert len(fake_twilio.message_attempts()) == 2  # the refused one, the one that went out


# -- finding 11: nothing goes out after the late limit while waiting for a slot ----------------

def test_no_text_goes_out_after_the_late_limit_while_waiting_for_a_slot(
    twilio_services: Services, fake_twilio: FakeTwilio,
) -> None:
    svc = twilio_services
    sub = subscribe(svc)
    assert svc.limiter is not None
    # Book the shared budget about three seconds ahead (another crowd is going out).
    assert svc.limiter.try_acquire(300) == 0
    due = send_instant(EVENING, sub.send_time, ZoneInfo(sub.timezone))
    one_second_left = due + svc.sender.late_limit - timedelta(seconds=1)
    outcome = svc.sender.deliver(sub.id, EVENING, one_second_left)
    assert outcome.channels == {"sms": "missed"}
    assert fake_twilio.message_attempts() == []
    record = nights.read(svc.redis, sub.id, EVENING)
    assert record["sms"] == "missed" and record["sms_reason"] == "rate-limit"


# -- finding 14: broker messages are not trusted ------------------------------------------------

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


@pytest.mark.parametrize("garbage", [b"not json {", b"[1, 2, 3]", b'{"body": 1}',
                                     b"\xff\xfe\x00binary"])
def test_garbage_in_the_broker_queue_does_not_stop_the_worker(
    garbage: bytes, twilio_env: dict[str, str], fake_twilio: FakeTwilio,
    start_worker: Starter,
) -> None:
    env = fast_env(twilio_env)
    svc = make_services(env)
    crowd = due_now(svc, 1)
    worker = start_worker(env, concurrency=1)
    svc.redis.lpush("celery", garbage)
    wait_until(lambda: svc.redis.llen("celery") == 0, 30, "the worker to take the entry")
    Celery(broker=env["REDIS_URL"]).send_task("reminders.send_reminder",
                                              args=[crowd.ids[0], crowd.evening.isoformat()])
    [message] = fake_twilio.wait_for_messages(1, timeout=30)
    assert message.to == crowd.phones[0]
    assert worker.proc.poll() is None  # the same worker, still running
    assert metric(svc.redis, "rejected:broker") == 1
    [kept] = svc.redis.lrange(keys.BROKER_REJECTED, 0, -1)  # kept for a look, not lost
    assert kept == garbage


# -- finding 17: SMTP after a crash --------------------------------------------------------------

@pytest.fixture
def email_svc(plain_email_env: dict[str, str]) -> Services:
    return make_services(plain_email_env)


def raw_message_id(raw: bytes) -> str:
    """The Message-ID header as it went over the wire (not as a parser would rebuild it)."""
    found = re.findall(rb"^Message-ID: *(.+?)\r?$", raw, flags=re.MULTILINE | re.IGNORECASE)
    assert len(found) == 1, raw[:600]
    return found[0].decode()


def email_subscriber(svc: Services, address: str = "ana@example.org") -> Subscriber:
    return enrol(svc.store, svc.settings, Enrolment(
        email=address, timezone="America/Chicago", time="20:00", channel="email",
        confirmed=True), datetime(2027, 1, 1, tzinfo=UTC))


def test_every_nightly_email_has_a_message_id_of_its_own_evening(
    email_svc: Services, fake_smtp: FakeSmtp,
) -> None:
    svc = email_svc
    ana, bo = email_subscriber(svc), email_subscriber(svc, "bo@example.org")
    for sub, day in ((ana, EVENING), (bo, EVENING), (ana, EVENING + timedelta(days=1))):
        due = send_instant(day, sub.send_time, ZoneInfo(sub.timezone))
        assert svc.sender.deliver(sub.id, day, due).channels == {"email": "sent"}
    ids = [raw_message_id(m.raw) for m in fake_smtp.wait_for(3)]
    assert len(set(ids)) == 3
    assert all(re.fullmatch(r"<[\w.-]+@example\.org>", mid) for mid in ids), ids
    assert ana.id not in "".join(ids)  # nothing that identifies the person inside
    assert nights.read(svc.redis, ana.id, EVENING)["email_id"] == ids[0]
    # Even with its night record gone, the evening's email is the same message.
    svc.redis.delete(keys.night(ana.id, EVENING))
    due = send_instant(EVENING, ana.send_time, ZoneInfo(ana.timezone))
    assert svc.sender.deliver(ana.id, EVENING, due).channels == {"email": "sent"}
    assert raw_message_id(fake_smtp.wait_for(4)[3].raw) == ids[0]


def test_a_retry_after_a_crash_at_data_sends_the_same_message_again(
    email_svc: Services, fake_smtp: FakeSmtp,
) -> None:
    svc = email_svc
    sub = email_subscriber(svc)
    due = send_instant(EVENING, sub.send_time, ZoneInfo(sub.timezone))
    fake_smtp.drop_after_data()
    with pytest.raises(RetryLater):
        svc.sender.deliver(sub.id, EVENING, due)
    record = nights.read(svc.redis, sub.id, EVENING)
    assert record["email"] == "retry" and record["email_data_at"]  # an attempt reached DATA
    outcome = svc.sender.deliver(sub.id, EVENING, due + timedelta(seconds=30))
    assert outcome.channels == {"email": "sent"}
    first, second = fake_smtp.wait_for(2)
    assert raw_message_id(first.raw) == raw_message_id(second.raw)
    assert first.message["Date"] == second.message["Date"]  # the same message, not a new one
    assert metric(svc.redis, "resent_after_data:email") == 1


def test_a_worker_killed_during_data_leaves_a_record_the_next_attempt_reads(
    email_svc: Services, fake_smtp: FakeSmtp,
) -> None:
    svc = email_svc
    sub = email_subscriber(svc)
    due = send_instant(EVENING, sub.send_time, ZoneInfo(sub.timezone))
    fake_smtp.drop_after_data()
    with pytest.raises(RetryLater):
        svc.sender.deliver(sub.id, EVENING, due)
    # As if the process had died there instead: the attempt still holds an expired lease.
    key = keys.night(sub.id, EVENING)
    svc.redis.hset(key, mapping={"email": "sending", "email_lease": due.timestamp() + 1,
                                 "email_since": due.timestamp()})
    svc.redis.hdel(key, "email_uncertain")
    outcome = svc.sender.deliver(sub.id, EVENING, due + timedelta(minutes=5))
    assert outcome.channels == {"email": "sent"}
    first, second = fake_smtp.wait_for(2)
    assert raw_message_id(first.raw) == raw_message_id(second.raw)
    assert first.message["Date"] == second.message["Date"]


def test_a_task_cannot_stretch_the_late_limit_past_the_evenings_day(
    twilio_services: Services, fake_twilio: FakeTwilio,
) -> None:
    svc = twilio_services
    sub = subscribe(svc)
    due = send_instant(EVENING, sub.send_time, ZoneInfo(sub.timezone))
    # send-now's hand-off may send later than usual, but not at 02:00 the next morning.
    outcome = svc.sender.deliver(sub.id, EVENING, due + timedelta(hours=6),
                                 not_after=due + timedelta(days=30))
    assert outcome.channels == {"sms": "missed"}
    assert fake_twilio.message_attempts() == []
