"""Sending one evening's text through the real twilio-python client to the local fake API."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from reminders.app.evenings.nightly import RetryLater
from reminders.app.people.preferences import Enrolment, enrol
from reminders.domain.schedule import send_instant
from reminders.domain.subscriber import Subscriber
from reminders.storage import keys, nights
from reminders.wiring import Services
from testing.twilio_api import FakeTwilio
from tests.conftest import FROM_NUMBER, run_threads

PHONE = "+13125550142"
EVENING = date(2027, 1, 9)


def subscribe(svc: Services, **kw: object) -> Subscriber:
    request = Enrolment(**{"phone": PHONE, "timezone": "America/Chicago", "time": "20:00",
                           "confirmed": True, **kw})  # type: ignore[arg-type]
    return enrol(svc.store, svc.settings, request, datetime(2027, 1, 1, tzinfo=UTC))


def due(sub: Subscriber) -> datetime:
    return send_instant(EVENING, sub.send_time, ZoneInfo(sub.timezone))


def test_sends_tonight_text_once_with_callback(twilio_services: Services,
                                               fake_twilio: FakeTwilio) -> None:
    svc = twilio_services
    sub = subscribe(svc, name="Zoë Adams")
    first = svc.sender.deliver(sub.id, EVENING, due(sub) + timedelta(seconds=3))
    again = svc.sender.deliver(sub.id, EVENING, due(sub) + timedelta(seconds=30))
    assert first.channels == {"sms": "sent"}
    assert again.channels == {"sms": "already sent"}
    [message] = fake_twilio.messages
    assert message.to == PHONE and message.from_ == FROM_NUMBER
    assert message.body == svc.renderer.tonight(sub, EVENING).sms.body
    # The name is made GSM-7; a long night drops the name, then the greeting, then the
    # program's name for its tag (render.py's _variants): the program opens every form,
    # never the non-GSM name.
    assert "Zo\u00eb" not in message.body
    assert message.body.startswith(("Foot Care Reminders: Zoe, tonight's foot care:\n1. ",
                                    "Foot Care Reminders: tonight's foot care:\n1. ",
                                    "Foot Care Reminders:\n1. ", "FootCare:\n1. "))
    assert message.status_callback == "https://reminders.example.org/sms/status"
    assert message.headers["Authorization"].startswith("Basic ")
    record = nights.read(svc.redis, sub.id, EVENING)
    assert record["sms"] == "sent" and record["sms_id"] == message.sid


def test_many_workers_running_the_same_task_send_once(twilio_services: Services,
                                                      fake_twilio: FakeTwilio) -> None:
    svc = twilio_services
    sub = subscribe(svc)
    results: list[str] = []

    def attempt() -> None:
        try:
            results.append(svc.sender.deliver(sub.id, EVENING, due(sub)).channels["sms"])
        except RetryLater:
            results.append("busy")

    run_threads([attempt] * 8)
    assert len(fake_twilio.messages) == 1
    assert results.count("sent") == 1


def test_server_error_is_retried_and_sent_once(twilio_services: Services,
                                               fake_twilio: FakeTwilio) -> None:
    svc = twilio_services
    sub = subscribe(svc)
    fake_twilio.fail_next(1, http_status=500)
    with pytest.raises(RetryLater):
        svc.sender.deliver(sub.id, EVENING, due(sub))
    assert fake_twilio.messages == []
    assert svc.sender.deliver(sub.id, EVENING, due(sub) + timedelta(seconds=20)).channels == {
        "sms": "sent"}
    assert len(fake_twilio.messages) == 1
    assert len(fake_twilio.message_attempts()) == 2


def test_rate_limit_passes_retry_after_on(twilio_services: Services,
                                          fake_twilio: FakeTwilio) -> None:
    svc = twilio_services
    sub = subscribe(svc)
    fake_twilio.fail_next(1, http_status=429, retry_after=7)
    with pytest.raises(RetryLater) as caught:
        svc.sender.deliver(sub.id, EVENING, due(sub))
    assert caught.value.delay == 7


def test_a_timeout_that_was_accepted_is_found_not_resent(twilio_services: Services,
                                                         fake_twilio: FakeTwilio) -> None:
    svc = twilio_services
    sub = subscribe(svc)
    fake_twilio.hang_next(1, seconds=3, then_accept=True)  # client timeout is 2 s
    with pytest.raises(RetryLater):
        svc.sender.deliver(sub.id, EVENING, datetime.now(UTC), ignore_late=True)
    [accepted] = fake_twilio.wait_for_messages(1, timeout=10)
    outcome = svc.sender.deliver(sub.id, EVENING, datetime.now(UTC), ignore_late=True)
    assert outcome.channels == {"sms": "sent"}
    assert len(fake_twilio.messages) == 1
    assert nights.read(svc.redis, sub.id, EVENING)["sms_id"] == accepted.sid


def test_a_timeout_that_was_not_accepted_is_sent_again(twilio_services: Services,
                                                       fake_twilio: FakeTwilio) -> None:
    svc = twilio_services
    sub = subscribe(svc)
    fake_twilio.hang_next(1, seconds=3, then_accept=False)
    with pytest.raises(RetryLater):
        svc.sender.deliver(sub.id, EVENING, datetime.now(UTC), ignore_late=True)
    # Not listed: maybe not yet (Twilio's list can lag), so not sent again at once...
    with pytest.raises(RetryLater):
        svc.sender.deliver(sub.id, EVENING, datetime.now(UTC), ignore_late=True)
    assert fake_twilio.messages == []
    # ...but once SMS_RECHECK_SECONDS (120 by default) have passed without it showing up.
    later = datetime.now(UTC) + timedelta(seconds=svc.settings.sms_recheck_seconds)
    outcome = svc.sender.deliver(sub.id, EVENING, later, ignore_late=True)
    assert outcome.channels == {"sms": "sent"}
    assert len(fake_twilio.messages) == 1


@pytest.mark.parametrize("code,state", [(21610, "opted_out"), (21211, "invalid"),
                                        (21614, "invalid")])
def test_permanent_errors_stop_texting(twilio_services: Services, fake_twilio: FakeTwilio,
                                       code: int, state: str) -> None:
    svc = twilio_services
    sub = subscribe(svc)
    fake_twilio.reject_number(PHONE, code)
    assert svc.sender.deliver(sub.id, EVENING, due(sub)).channels == {"sms": "failed"}
    after = svc.store.get(sub.id)
    assert after is not None and after.sms_status == state
    assert svc.store.next_due(sub.id) is None
    assert nights.read(svc.redis, sub.id, EVENING)["sms_error"] == str(code)
    assert svc.store.consent_history(sub.id)[-1]["action"] == state
    # Tomorrow nothing is even attempted.
    tomorrow = EVENING + timedelta(days=1)
    assert svc.sender.deliver(sub.id, tomorrow, due(sub) + timedelta(days=1)).channels == {
        "sms": "skipped"}
    assert len(fake_twilio.message_attempts()) == 1


def test_unconfirmed_paused_and_late_people_get_nothing(twilio_services: Services,
                                                        fake_twilio: FakeTwilio) -> None:
    svc = twilio_services
    pending = subscribe(svc, confirmed=False)
    paused = subscribe(svc, phone="+13125550143")
    svc.store.save(paused, paused.with_changes(paused_until=EVENING))
    late = subscribe(svc, phone="+13125550144")
    assert svc.sender.deliver(pending.id, EVENING, due(pending)).channels == {"sms": "skipped"}
    assert svc.sender.deliver(paused.id, EVENING, due(paused)).channels == {"sms": "skipped"}
    assert svc.sender.deliver(late.id, EVENING, due(late) + timedelta(minutes=91)
                              ).channels == {"sms": "missed"}
    assert fake_twilio.message_attempts() == []
    assert nights.read(svc.redis, paused.id, EVENING)["sms_reason"] == "paused"
    assert nights.read(svc.redis, pending.id, EVENING)["sms_reason"] == "pending"


def test_an_evening_stays_in_flight_until_every_channel_is_final(
    twilio_services: Services, fake_twilio: FakeTwilio,
) -> None:
    svc = twilio_services
    sub = subscribe(svc, email="ana@example.org", channel="both")
    member = keys.inflight_member(sub.id, EVENING)
    svc.redis.zadd(keys.INFLIGHT, {member: due(sub).timestamp()})  # as the dispatcher marks it
    fake_twilio.fail_next(1, http_status=500)
    with pytest.raises(RetryLater):  # the email went out, the text must be retried
        svc.sender.deliver(sub.id, EVENING, due(sub))
    assert svc.redis.zscore(keys.INFLIGHT, member) is not None  # so a lost retry is resent
    again = svc.sender.deliver(sub.id, EVENING, due(sub) + timedelta(seconds=20))
    assert again.channels == {"sms": "sent", "email": "already sent"}
    assert svc.redis.zscore(keys.INFLIGHT, member) is None
    [message] = fake_twilio.messages
    assert message.to == PHONE
    # The status callback for that SID finds its night (the index is written with the record).
    assert svc.redis.get(keys.message_index(message.sid)) == f"{sub.id}:{EVENING}".encode()


def test_an_evening_already_sent_is_settled_by_a_late_duplicate(
    twilio_services: Services, fake_twilio: FakeTwilio,
) -> None:
    svc = twilio_services
    sub = subscribe(svc)
    member = keys.inflight_member(sub.id, EVENING)
    assert svc.sender.deliver(sub.id, EVENING, due(sub)).channels == {"sms": "sent"}
    svc.redis.zadd(keys.INFLIGHT, {member: due(sub).timestamp()})  # handed out again meanwhile
    assert svc.sender.deliver(sub.id, EVENING, due(sub)).channels == {"sms": "already sent"}
    assert svc.redis.zscore(keys.INFLIGHT, member) is None
    assert len(fake_twilio.messages) == 1


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
