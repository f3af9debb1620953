"""Escalation to the care team: an email to CARE_TEAM_EMAIL and a signed webhook, at once for
emergency and crisis, else when the deadline passes unacknowledged; a second stage to
CARE_TEAM_ESCALATION_EMAIL; exactly once per item, stage and channel; the minimum necessary
(never the person's words, nothing about them in a subject). Against the local SMTP server
(aiosmtpd) and a local receiver that checks the signature."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from reminders.app.people.preferences import Enrolment, enrol
from reminders.wiring import Services
from testing.smtp import FakeSmtp
from tests.app.care.receiver import Receiver, verify
from tests.conftest import make_services, run_threads

PHONE = "+13125550142"
SECRET = "a-shared-secret-of-some-length"
TEAM, CHARGE = "care-team@clinic.example", "charge-nurse@clinic.example"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver(SECRET).start()
    yield server
    server.stop()


@pytest.fixture
def svc(base_env: dict[str, str], fake_smtp: FakeSmtp, receiver: Receiver) -> Services:
    services = make_services({
        **base_env, "EMAIL_BACKEND": "smtp", "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(fake_smtp.port), "SMTP_STARTTLS": "false",
        "EMAIL_FROM": "reminders@clinic.example", "PUBLIC_URL": "https://care.clinic.example",
        "SECRET_KEY": "test-secret-of-at-least-32-bytes!", "CARE_TEAM_EMAIL": TEAM,
        "CARE_TEAM_ESCALATION_EMAIL": CHARGE, "CARE_TEAM_WEBHOOK_URL": receiver.url,
        "CARE_TEAM_WEBHOOK_SECRET": SECRET})
    enrol(services.store, services.settings, Enrolment(
        phone=PHONE, name="Ana Ruiz", timezone="America/Chicago", time="20:00", confirmed=True),
        datetime.now(UTC) - timedelta(days=30))
    return services


def mails(smtp: FakeSmtp) -> list[tuple[str, str, str]]:
    return [(r.rcpt_tos[0], str(r.message["Subject"]), r.message.get_content())
            for r in smtp.messages]


def test_a_crisis_reaches_the_care_team_at_once_by_email_and_signed_webhook(
        svc: Services, fake_smtp: FakeSmtp, receiver: Receiver) -> None:
    words = "I can't go on, I want to end my life"
    svc.inbound(datetime.now(UTC)).handle(PHONE, words)
    [(to, subject, body)] = mails(fake_smtp)
    [item] = svc.reviews.inbox()
    assert to == TEAM
    assert subject == f"[Foot Care Reminders] review item {item['id']}, crisis (self-harm)"
    assert "Ana Ruiz" in body and PHONE in body and "crisis" in body
    assert f"https://care.clinic.example/console/inbox#item-{item['id']}" in body
    assert "end my life" not in body and "end my life" not in subject
    assert "Ana" not in subject and PHONE not in subject
    [delivery] = receiver.deliveries
    assert delivery.valid and delivery.headers["X-Reminders-Delivery"] == f"{item['id']}:1"
    sent = delivery.json
    assert (sent["item"], sent["stage"], sent["level"], sent["kind"]) == (
        item["id"], 1, "crisis", "crisis")
    assert sent["person"] == {"name": "Ana Ruiz", "phone": PHONE, "timezone": "America/Chicago"}
    assert "end my life" not in delivery.body.decode()
    # the signature is of these bytes with this secret: another secret or body fails
    header = delivery.headers["X-Reminders-Signature"]
    now = datetime.now(UTC).timestamp()
    assert not verify("another-secret-entirely", header, delivery.body, now)
    assert not verify(SECRET, header, delivery.body + b" ", now)
    assert not verify(SECRET, header, delivery.body, now + 3600)  # an old one: replayed


def test_each_stage_goes_once_however_many_sweeps_run(
        svc: Services, fake_smtp: FakeSmtp, receiver: Receiver) -> None:
    opened = datetime.now(UTC)
    svc.inbound(opened).handle(PHONE, "I want to die")
    later = opened + timedelta(minutes=16)  # past the 15-minute deadline, nobody took it
    run_threads([lambda: svc.escalator.sweep(later) for _ in range(6)])
    svc.escalator.sweep(later + timedelta(hours=5))
    assert [to for to, _, _ in mails(fake_smtp)] == [TEAM, CHARGE]
    subject = mails(fake_smtp)[1][1]
    assert subject.startswith("[Foot Care Reminders] Escalated: review item")
    assert [d.json["stage"] for d in receiver.deliveries] == [1, 2]
    assert all(d.valid for d in receiver.deliveries)


@pytest.mark.parametrize(("words", "deadline"), [
    ("wat does this mean", timedelta(hours=4)),  # not understood: as same day
    ("there's a blister on my heel", timedelta(hours=4)),  # same-day flag
])
def test_an_item_nobody_takes_escalates_when_its_deadline_passes(
        svc: Services, fake_smtp: FakeSmtp, receiver: Receiver, words: str,
        deadline: timedelta) -> None:
    opened = datetime.now(UTC)
    svc.inbound(opened).handle(PHONE, words)
    svc.escalator.sweep(opened + deadline - timedelta(seconds=5))
    assert mails(fake_smtp) == [] and receiver.deliveries == []
    svc.escalator.sweep(opened + deadline + timedelta(seconds=5))
    [(to, subject, body)] = mails(fake_smtp)
    assert to == TEAM and subject.endswith("past its deadline") and words not in body
    svc.escalator.sweep(opened + 2 * deadline + timedelta(seconds=5))
    assert [to for to, _, _ in mails(fake_smtp)] == [TEAM, CHARGE]
    assert [d.json["stage"] for d in receiver.deliveries] == [1, 2]


def test_a_worsening_score_escalates_too(svc: Services, fake_smtp: FakeSmtp) -> None:
    first = datetime.now(UTC) - timedelta(days=2)
    for n, score in enumerate(("5", "6", "7")):
        svc.inbound(first + timedelta(days=n)).handle(PHONE, score)
    [item] = svc.reviews.inbox()
    svc.escalator.sweep(datetime.fromisoformat(item["due_by"].replace("Z", "+00:00"))
                        + timedelta(seconds=1))
    [(to, subject, body)] = mails(fake_smtp)
    assert to == TEAM and "a worsening score" in body and "soon" in subject


def test_an_item_taken_in_time_never_escalates(svc: Services, fake_smtp: FakeSmtp,
                                               receiver: Receiver) -> None:
    opened = datetime.now(UTC)
    svc.inbound(opened).handle(PHONE, "my ankle is swollen")
    [item] = svc.reviews.inbox()
    svc.reviews.take(item["id"], "nurse@clinic.example", opened + timedelta(minutes=30))
    svc.escalator.sweep(opened + timedelta(days=3))
    assert mails(fake_smtp) == [] and receiver.deliveries == []


def test_the_webhook_is_retried_and_a_dead_receiver_is_tried_again_later(
        svc: Services, fake_smtp: FakeSmtp, receiver: Receiver) -> None:
    receiver.failures.extend([503, 503])  # two refusals, then it takes it
    opened = datetime.now(UTC)
    svc.inbound(opened).handle(PHONE, "chest pain and I can't breathe")
    assert receiver.attempts == 3 and len(receiver.deliveries) == 1
    assert receiver.deliveries[0].valid
    # a receiver down for a whole sweep: the stage is tried again at the next sweep
    receiver.failures.extend([503, 503, 503])
    svc.inbound(opened).handle("+13125550999", "I want to die")  # a second item, unknown number
    assert len(receiver.deliveries) == 1  # three refusals: not delivered yet
    svc.escalator.sweep(opened + timedelta(seconds=120))  # RETRY_SECONDS after the failure
    assert len(receiver.deliveries) == 2 and receiver.deliveries[1].valid
    assert json.loads(receiver.deliveries[1].body)["person"]["phone"] == "+13125550999"
    assert [to for to, _, _ in mails(fake_smtp)] == [TEAM, TEAM]  # each email once


def test_an_email_lost_after_data_is_sent_again_as_the_same_message(
        svc: Services, fake_smtp: FakeSmtp, receiver: Receiver) -> None:
    """The connection dies after the server took the message: the retry is the same message
    (Message-ID and Date), so the team's mail system shows one; each stage its own id."""
    fake_smtp.drop_after_data()
    opened = datetime.now(UTC)
    svc.inbound(opened).handle(PHONE, "I want to end my life")
    [item] = svc.reviews.inbox()
    assert len(receiver.deliveries) == 1  # the webhook is not held back by the email
    svc.escalator.sweep(opened + timedelta(seconds=61))  # RETRY_SECONDS on: the email again
    first, second = fake_smtp.wait_for(2)
    assert [r.rcpt_tos for r in (first, second)] == [[TEAM], [TEAM]]
    assert first.message["Message-ID"] == second.message["Message-ID"]
    assert first.message["Date"] == second.message["Date"]
    message_id = str(first.message["Message-ID"]).strip()
    assert message_id.startswith("<escalation.") and message_id.endswith("@clinic.example>")
    svc.escalator.sweep(opened + timedelta(seconds=200))
    assert len(fake_smtp.messages) == 2  # sent: no third copy
    # stage 2 (the charge nurse) is another message, with an id of its own
    svc.escalator.sweep(opened + timedelta(hours=2))
    third = fake_smtp.wait_for(3)[2]
    assert third.rcpt_tos == [CHARGE] and item["id"] in str(third.message["Subject"])
    assert third.message["Message-ID"] != first.message["Message-ID"]
    assert str(third.message["Message-ID"]).strip().startswith("<escalation.")
