"""The night's claim while another sender holds it, and a dead sender's late answer.

One evening's text goes out once because a sender claims the (person, evening) with a lease
before it asks the provider anything. While that lease is live, nobody else may touch the
provider for that evening: not to send, not even to look the message up. After the lease has
run out the evening may be taken over, and then the late answer of the first sender must not
overwrite what the second one recorded.
"""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from reminders.app.evenings.nightly import RetryLater
from reminders.app.people.preferences import Enrolment, enrol
from reminders.domain.schedule import send_instant
from reminders.domain.subscriber import Subscriber
from reminders.storage import codec, keys, nights
from reminders.wiring import Services
from testing.twilio_api import FakeTwilio
from tests.conftest import make_services, wait_until

PHONE = "+13125550142"
EVENING = date(2027, 1, 9)


def subscribe(svc: Services) -> Subscriber:
    return enrol(svc.store, svc.settings,
                 Enrolment(phone=PHONE, timezone="America/Chicago", time="20:00", confirmed=True),
                 datetime(2027, 1, 1, tzinfo=UTC))


def due(sub: Subscriber) -> datetime:
    return send_instant(EVENING, sub.send_time, ZoneInfo(sub.timezone))


def test_a_second_sender_during_a_live_lease_asks_the_provider_nothing(
        twilio_env: dict[str, str], fake_twilio: FakeTwilio) -> None:
    # The first sender's request stays at the provider until the test lets it answer: its
    # lease (60 s) is live the whole time. A long client timeout keeps it waiting, not failing.
    svc = make_services({**twilio_env, "TWILIO_TIMEOUT_SECONDS": "20"})
    sub = subscribe(svc)
    fake_twilio.hold_next(1)
    first: dict[str, str] = {}
    sender = threading.Thread(target=lambda: first.update(
        svc.sender.deliver(sub.id, EVENING, due(sub)).channels), daemon=True)
    sender.start()
    try:
        wait_until(lambda: fake_twilio.held == 1, 10, "the first sender's request")
        with pytest.raises(RetryLater) as busy:
            svc.sender.deliver(sub.id, EVENING, due(sub) + timedelta(seconds=5))
        assert "another attempt holds it" in busy.value.reason
        # Only the first sender's creation reached the provider: no second creation, and no
        # look-up of the message list either (that is for a dead sender's evening).
        seen = [(r.method, r.path.rsplit("/", 1)[-1]) for r in fake_twilio.requests_log]
        assert seen == [("POST", "Messages.json")], seen
    finally:
        fake_twilio.release_held()
        sender.join(30)
    assert first == {"sms": "sent"}
    [message] = fake_twilio.messages
    assert message.to == PHONE
    assert nights.read(svc.redis, sub.id, EVENING)["sms"] == "sent"


def test_the_late_answer_of_a_sender_whose_lease_ran_out_changes_nothing(
        console_services: Services) -> None:
    svc = console_services
    sub = subscribe(svc)
    start = due(sub)
    # Sender A claims with a short lease and then hangs past it.
    first = nights.claim(svc.redis, sub.id, EVENING, "sms", start, lease_seconds=10)
    assert first.outcome == "claimed"
    # While A's lease is live nobody else owns the evening.
    assert nights.claim(svc.redis, sub.id, EVENING, "sms", start + timedelta(seconds=5),
                        lease_seconds=10).outcome == "busy"
    # Its lease over, sender B takes the evening over (it must look for A's message first)
    # and records it sent.
    second = nights.claim(svc.redis, sub.id, EVENING, "sms", start + timedelta(seconds=30),
                          lease_seconds=10)
    assert second.outcome == "reclaimed"
    assert nights.finish(svc.redis, sub.id, EVENING, "sms", "sent", message_index="SM2",
                         id="SM2")
    # A's late answer (a failure) arrives: the evening stays sent, counted once.
    assert not nights.finish(svc.redis, sub.id, EVENING, "sms", "failed", error="30003")
    record = nights.read(svc.redis, sub.id, EVENING)
    assert record["sms"] == "sent" and record["sms_id"] == "SM2"
    assert "sms_error" not in record
    stats = codec.text_hash(svc.redis.hgetall(keys.night_stats(EVENING)))
    assert stats.get("sms_sent") == "1" and "sms_failed" not in stats, stats
    # ... and a later claim finds it done: nobody sends it again.
    assert nights.claim(svc.redis, sub.id, EVENING, "sms", start + timedelta(seconds=90),
                        lease_seconds=10).outcome == "done"
