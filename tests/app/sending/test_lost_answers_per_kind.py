"""Every kind of message, not only the nightly text, survives an answer lost after Twilio
accepted it: the weekly text, the caregiver's alert and the weekly email are each sent once.

The weekly text and the caregiver alert used to have a send flow of their own with no look-up:
a text answered after the client's timeout was sent again. The fake Twilio API accepts the
message at once and answers after the client (TWILIO_TIMEOUT_SECONDS=2) gave up; the message
sits queued, and the next attempt must find it rather than send a second one. The weekly email,
retried after the connection died at DATA, must be the same message (Message-ID and Date). A
429's Retry-After holds the weekly text and the caregiver alert (no request before it), a 500 is
retried, and each still goes out once. Status callbacks land on each kind's own record.
In process, a real Redis, the real twilio-python client over HTTP to the fake, a local SMTP
server; the person's week is made of DONE and scores texted through the signed webhook.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from email import message_from_bytes

import pytest

from reminders.app.people.caregivers import RetryCare
from reminders.app.sending.retry import RetryLater
from reminders.domain.subscriber import Subscriber
from reminders.storage import caregivers, keys, nights
from reminders.wiring import Services
from testing.smtp import FakeSmtp
from testing.twilio_api import DEFAULT_AUTH_TOKEN, FakeTwilio
from tests.app.evenings.test_weekly import PHONE, PUBLIC, SUMMARY, a_week, local, person
from tests.app.people.test_caregiver_sends import CAREGIVER, alert, linked
from tests.conftest import make_services
from tests.webhook_client import WebhookClient, serve


class Clock:
    """One simulated instant for our sender and the fake's message times."""

    def __init__(self, fake: FakeTwilio, start: datetime) -> None:
        self.now = start
        fake.clock = lambda: self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


def creations(fake: FakeTwilio) -> int:
    return len(fake.message_attempts())


def summary_evening(twilio_env: dict[str, str], fake_twilio: FakeTwilio
                    ) -> tuple[Services, Subscriber, Clock]:
    """A person who texted through a week (signed webhooks), at the start of the summary
    evening; the fake's record of that week cleared, so only the weekly text is counted."""
    svc = make_services({**twilio_env, "WEEKLY_SUMMARY_DAY": "sunday"})
    sub = person(svc)
    with serve(svc) as base:
        a_week(WebhookClient(base, PUBLIC, DEFAULT_AUTH_TOKEN))
    fake_twilio.clear()
    return svc, sub, Clock(fake_twilio, local(SUMMARY, time(20, 0, 30)).astimezone(UTC))


def test_a_weekly_text_accepted_after_the_clients_timeout_is_sent_once(
        twilio_env: dict[str, str], fake_twilio: FakeTwilio) -> None:
    svc, sub, clock = summary_evening(twilio_env, fake_twilio)
    fake_twilio.answer_late_next(1, seconds=3)  # accepted at once, answered after 2 s
    with pytest.raises(RetryLater, match="timeout"):
        svc.weekly.after_evening(sub, SUMMARY, clock.now)
    [queued] = fake_twilio.messages
    assert queued.to == PHONE and queued.body.startswith("Foot Care Reminders weekly:")
    assert nights.read(svc.redis, sub.id, SUMMARY)["weekly"] == "retry"

    # The task's retry finds it at Twilio: recorded, not sent again.
    assert svc.weekly.after_evening(sub, SUMMARY, clock.advance(20)) == {"weekly": "sent"}
    assert creations(fake_twilio) == 1 and len(fake_twilio.messages) == 1
    record = nights.read(svc.redis, sub.id, SUMMARY)
    assert (record["weekly"], record["weekly_id"]) == ("sent", queued.sid)
    assert svc.weekly.after_evening(sub, SUMMARY, clock.advance(20)) == {
        "weekly": "already sent"}
    assert len(fake_twilio.messages_to(PHONE)) == 1

    # Its status callback names only the SID: it lands on the weekly text's own fields.
    with serve(svc) as base:
        web = WebhookClient(base, PUBLIC, DEFAULT_AUTH_TOKEN)
        answer = web.post("/sms/status", {"MessageSid": queued.sid, "MessageStatus":
                                          "delivered", "AccountSid": svc.settings.
                                          twilio_account_sid, "To": PHONE})
    assert answer.status_code == 204
    record = nights.read(svc.redis, sub.id, SUMMARY)
    assert record["weekly_status"] == "delivered" and "sms_status" not in record


def test_a_caregiver_alert_accepted_after_the_clients_timeout_is_sent_once(
        twilio_env: dict[str, str], fake_twilio: FakeTwilio) -> None:
    svc = make_services(twilio_env)  # TWILIO_TIMEOUT_SECONDS=2
    sub = linked(svc, fake_twilio)
    body = alert(svc, sub)
    clock = Clock(fake_twilio, datetime.now(UTC))
    fake_twilio.answer_late_next(1, seconds=3)
    with pytest.raises(RetryCare, match="timeout"):
        svc.care_sender.send(sub, "alert:1", body, "alert", clock.now)
    [queued] = fake_twilio.messages
    assert queued.to == CAREGIVER
    assert caregivers.text_state(svc.redis, sub.id, "alert:1") == "retry"

    assert svc.care_sender.send(sub, "alert:1", body, "alert", clock.advance(20)) == "sent"
    assert creations(fake_twilio) == 1
    assert [m.body for m in fake_twilio.messages_to(CAREGIVER)] == [body]
    assert svc.care_sender.send(sub, "alert:1", body, "alert",
                                clock.advance(20)) == "already sent"
    assert len(fake_twilio.messages_to(CAREGIVER)) == 1
    # The consent log says it was sent, once.
    sent = [e for e in svc.store.consent_history(sub.id)
            if e["action"] == "caregiver_alert_sent"]
    assert len(sent) == 1 and sent[0]["words"] == "alert:1"

    # Its status callbacks land on the caregiver text; an error code about the caregiver's
    # number says nothing about the person's own texts.
    with serve(svc) as base:
        web = WebhookClient(base, PUBLIC, DEFAULT_AUTH_TOKEN)
        for status, code in (("sent", ""), ("undelivered", "21610"), ("delivered", "")):
            answer = web.post("/sms/status", {
                "MessageSid": queued.sid, "MessageStatus": status, "ErrorCode": code,
                "AccountSid": svc.settings.twilio_account_sid, "To": CAREGIVER})
            assert answer.status_code == 204
    sent_texts = svc.redis.hgetall(keys.caregiver_sent(sub.id))
    assert sent_texts[b"alert:1_status"] == b"undelivered"  # terminal: a late one changes nothing
    assert sent_texts[b"alert:1_error"] == b"21610"
    person = svc.store.get(sub.id)
    assert person is not None and person.sms_status == "active"


def test_a_caregiver_alert_never_accepted_is_sent_again_after_the_recheck_window(
        twilio_env: dict[str, str], fake_twilio: FakeTwilio) -> None:
    """Not listed means not known yet: looked for again, sent once the window has passed."""
    svc = make_services({**twilio_env, "SMS_RECHECK_SECONDS": "120"})
    sub = linked(svc, fake_twilio)
    body = alert(svc, sub)
    clock = Clock(fake_twilio, datetime.now(UTC))
    fake_twilio.hang_next(1, seconds=3, then_accept=False)  # lost: Twilio never had it
    with pytest.raises(RetryCare):
        svc.care_sender.send(sub, "alert:1", body, "alert", clock.now)
    with pytest.raises(RetryCare, match="not listed"):
        svc.care_sender.send(sub, "alert:1", body, "alert", clock.advance(60))
    assert fake_twilio.messages == []
    assert svc.care_sender.send(sub, "alert:1", body, "alert", clock.advance(61)) == "sent"
    assert [m.body for m in fake_twilio.messages_to(CAREGIVER)] == [body]


def test_a_weekly_email_retried_after_a_crash_at_data_is_the_same_message(
        plain_email_env: dict[str, str], fake_smtp: FakeSmtp) -> None:
    svc: Services = make_services({**plain_email_env, "WEEKLY_SUMMARY_DAY": "sunday"})
    sub = person(svc, channel="email", email="ana@example.org")
    svc.store.save(sub, sub.with_changes(email_status="active"))
    with serve(svc) as base:
        a_week(WebhookClient(base, PUBLIC, DEFAULT_AUTH_TOKEN))
    sub = svc.store.get(sub.id) or sub
    now = local(SUMMARY, time(20, 0, 30)).astimezone(UTC)
    fake_smtp.drop_after_data()
    with pytest.raises(RetryLater):
        svc.weekly.after_evening(sub, SUMMARY, now)
    record = nights.read(svc.redis, sub.id, SUMMARY)
    assert record["weekly_email"] == "retry" and record["weekly_email_data_at"]
    assert svc.weekly.after_evening(sub, SUMMARY, now + timedelta(seconds=30)) == {
        "weekly_email": "sent"}
    first, second = (message_from_bytes(m.raw) for m in fake_smtp.wait_for(2))
    assert first["Subject"] == second["Subject"] == (
        "Your week of foot care: 5 of 7 evenings done")
    assert first["Message-ID"] == second["Message-ID"]
    assert first["Date"] == second["Date"]
    # Its own id: not the nightly email's of that evening, and the same on every attempt.
    assert first["Message-ID"].startswith("<weekly.20261129.")
    assert nights.read(svc.redis, sub.id, SUMMARY)["weekly_email_id"] == first["Message-ID"]


def test_a_caregiver_alert_honours_retry_after_and_goes_once_after_429_and_500(
        twilio_env: dict[str, str], fake_twilio: FakeTwilio) -> None:
    """The provider's Retry-After holds the text (no attempt reaches Twilio before it); a 5xx
    is retried; in the end one text."""
    svc = make_services(twilio_env)
    sub = linked(svc, fake_twilio)
    body = alert(svc, sub)
    clock = Clock(fake_twilio, datetime.now(UTC))
    fake_twilio.fail_next(1, http_status=429, retry_after=30)
    with pytest.raises(RetryCare) as waited:
        svc.care_sender.send(sub, "alert:1", body, "alert", clock.now)
    assert waited.value.delay == 30
    with pytest.raises(RetryCare, match="retry-after"):  # too early: not even asked
        svc.care_sender.send(sub, "alert:1", body, "alert", clock.advance(10))
    assert creations(fake_twilio) == 1
    fake_twilio.fail_next(1, http_status=500)
    with pytest.raises(RetryCare):
        svc.care_sender.send(sub, "alert:1", body, "alert", clock.advance(21))
    assert svc.care_sender.send(sub, "alert:1", body, "alert", clock.advance(5)) == "sent"
    assert creations(fake_twilio) == 3
    assert [m.body for m in fake_twilio.messages_to(CAREGIVER)] == [body]


def test_a_weekly_text_honours_retry_after_and_goes_once_after_429_and_500(
        twilio_env: dict[str, str], fake_twilio: FakeTwilio) -> None:
    svc, sub, clock = summary_evening(twilio_env, fake_twilio)
    fake_twilio.fail_next(1, http_status=429, retry_after=30)
    with pytest.raises(RetryLater) as waited:
        svc.weekly.after_evening(sub, SUMMARY, clock.now)
    assert waited.value.delay == 30
    with pytest.raises(RetryLater, match="retry-after"):  # too early: Twilio is not asked
        svc.weekly.after_evening(sub, SUMMARY, clock.advance(10))
    assert creations(fake_twilio) == 1
    fake_twilio.fail_next(1, http_status=500)
    with pytest.raises(RetryLater):
        svc.weekly.after_evening(sub, SUMMARY, clock.advance(21))
    assert svc.weekly.after_evening(sub, SUMMARY, clock.advance(5)) == {"weekly": "sent"}
    assert creations(fake_twilio) == 3 and len(fake_twilio.messages_to(PHONE)) == 1
