"""Every email has a Message-ID of its own (person, kind, evening), the same on a retry after
a crash at DATA (app/sending/message_ids.py), asserted on the header as it went over the wire
to the fake SMTP server.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import redis

from reminders.app.evenings.nightly import RetryLater
from reminders.app.people.preferences import Enrolment, enrol
from reminders.domain.schedule import send_instant
from reminders.domain.subscriber import Subscriber
from reminders.storage import keys, nights
from reminders.wiring import Services
from testing.smtp import FakeSmtp
from tests.conftest import make_services

EVENING = date(2027, 1, 9)


def metric(client: redis.Redis, name: str) -> int:
    return int(client.hget(keys.METRICS, name) or 0)


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
