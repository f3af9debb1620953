"""A caregiver's text: at most once per key, never while another worker holds it, and never
after a STOP, even one that arrives while the text waits for its turn in the shared pace.

The link is made active the way people make it (the invitation, the caregiver's YES, the
person's CARE YES, each through the inbound handler); what is asserted is what reaches the fake
Twilio API and the link's state in Redis.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest

from reminders.app.people.caregivers import CareSender, RetryCare
from reminders.app.people.preferences import Enrolment, enrol
from reminders.domain.subscriber import Subscriber
from reminders.storage import caregivers
from reminders.storage.rate_limit import RateLimiter
from reminders.wiring import Services
from testing.twilio_api import FakeTwilio
from tests.conftest import make_services, wait_until

PERSON = "+13125550142"
CAREGIVER = "+13125550177"


@pytest.fixture
def svc(twilio_env: dict[str, str]) -> Services:
    # A long client timeout: a held request waits for the test, it does not fail.
    return make_services({**twilio_env, "TWILIO_TIMEOUT_SECONDS": "20"})


def linked(svc: Services, fake: FakeTwilio) -> Subscriber:
    now = datetime.now(UTC)
    sub = enrol(svc.store, svc.settings, Enrolment(phone=PERSON, name="Ana Lopez",
                                                   confirmed=True, timezone="America/Chicago",
                                                   time="20:00"), now)
    svc.caregivers(now).add(sub, CAREGIVER, "Bob")
    svc.inbound(now).handle(CAREGIVER, "YES")
    svc.inbound(now).handle(PERSON, "CARE YES")
    link = caregivers.read(svc.redis, sub.id)
    assert link is not None and link.active
    fake.clear()  # the invitation and the confirmations are not what these tests count
    return sub


def alert(svc: Services, sub: Subscriber) -> str:
    return svc.weekly_texts.in_language("en").alert(sub.name, "urgent", "gangrene", "tonight")


def test_a_text_already_sent_under_its_key_is_not_sent_again(svc: Services,
                                                             fake_twilio: FakeTwilio) -> None:
    sub = linked(svc, fake_twilio)
    body = alert(svc, sub)
    now = datetime.now(UTC)
    assert svc.care_sender.send(sub, "alert:1", body, "alert", now) == "sent"
    # A retried task, a duplicate task, a second worker: the same key again.
    assert svc.care_sender.send(sub, "alert:1", body, "alert", now) == "already sent"
    assert [m.body for m in fake_twilio.messages_to(CAREGIVER)] == [body]
    # Another report is another key: it goes out.
    assert svc.care_sender.send(sub, "alert:2", body, "alert", now) == "sent"
    assert len(fake_twilio.messages_to(CAREGIVER)) == 2


def test_a_text_another_worker_is_sending_is_not_sent_twice(svc: Services,
                                                           fake_twilio: FakeTwilio) -> None:
    sub = linked(svc, fake_twilio)
    body = alert(svc, sub)
    fake_twilio.hold_next(1)
    first: list[str] = []
    worker = threading.Thread(target=lambda: first.append(
        svc.care_sender.send(sub, "alert:1", body, "alert", datetime.now(UTC))), daemon=True)
    worker.start()
    try:
        wait_until(lambda: fake_twilio.held == 1, 10, "the first worker's request")
        with pytest.raises(RetryCare) as busy:
            svc.care_sender.send(sub, "alert:1", body, "alert", datetime.now(UTC))
        assert "another attempt holds it" in busy.value.reason
        # Only the first worker's creation reached the provider: no second creation, and no
        # look-up of the message list either (that is for a dead sender's text).
        seen = [(r.method, r.path.rsplit("/", 1)[-1]) for r in fake_twilio.requests_log]
        assert seen == [("POST", "Messages.json")], seen
    finally:
        fake_twilio.release_held()
        worker.join(30)
    assert first == ["sent"]
    assert [m.body for m in fake_twilio.messages_to(CAREGIVER)] == [body]


def test_a_stop_that_arrives_while_the_text_waits_for_its_slot_wins(
        svc: Services, fake_twilio: FakeTwilio) -> None:
    sub = linked(svc, fake_twilio)
    body = alert(svc, sub)
    waits: list[float] = []

    def wait_and_meanwhile_stop(seconds: float) -> None:
        # The caregiver's STOP is handled while this text waits for its slot. (A sender that
        # wakes late books a new slot and waits again: the STOP comes once.)
        if not waits:
            svc.inbound(datetime.now(UTC)).handle(CAREGIVER, "STOP")
        waits.append(seconds)
        time.sleep(seconds)

    limiter = RateLimiter(svc.redis, 2.0, 2, sleep=wait_and_meanwhile_stop)
    booked, _ = limiter.book(2, 10.0)  # another text holds the next slot: this one waits
    assert booked
    sender = CareSender(svc.store, svc.weekly_texts, svc.send_path.paced_by(limiter))
    assert sender.send(sub, "alert:1", body, "alert", datetime.now(UTC)) == "inactive"
    assert waits and waits[0] > 0  # it did wait, and the STOP came in meanwhile
    assert fake_twilio.messages_to(CAREGIVER) == []
    link = caregivers.read(svc.redis, sub.id)
    assert link is not None and not link.active and link.status == "stopped"
    # Nothing is left claimed: the key is free should the link ever be active again.
    assert caregivers.text_state(svc.redis, sub.id, "alert:1") == ""
