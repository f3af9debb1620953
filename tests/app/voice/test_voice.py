"""The evening call (issue 32): one call an evening on the one send path, its TwiML, and the
keypad answers doing what the same texts do.

In process: a real Redis, the real twilio-python client over HTTP to the fake Twilio's Calls
resource, the web app on a free port; the fake plays keys into the signed Gather action URL as
Twilio would. The spoken words are read back from the TwiML that reached the fake (parsed as
XML) and checked with the content-safety tests' own rules, not with the selection code.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from reminders.app.people.preferences import Enrolment, enrol
from reminders.app.sending.retry import RetryLater
from reminders.domain.subscriber import Subscriber
from reminders.storage import consent_log, flags, inbox, nights
from reminders.storage.subscribers import ConsentEvent
from reminders.wiring import Services
from testing.twilio_api import DEFAULT_AUTH_TOKEN, FakeTwilio
from testing.twilio_calls import PlacedCall
from tests.messages import test_content_safety, test_content_safety_es
from tests.webhook_client import PUBLIC_URL, WebhookClient, new_sid, serve

ZONE = "America/Chicago"
DAY = date(2026, 12, 2)
CALLER = "+13125550177"
TEXTER = "+13125550178"


def local(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=ZoneInfo(ZONE))


@pytest.fixture
def evening() -> Iterator[datetime]:
    """Tonight, a few seconds after the 20:00 reminder is due."""
    with time_machine.travel(local(DAY, time(20, 0, 5)), tick=True):
        yield datetime.now(UTC)


def person(svc: Services, phone: str, channel: str, language: str = "en") -> Subscriber:
    """Enrolled by an operator; a voice person's recorded agreement to automated calls."""
    sub = enrol(svc.store, svc.settings, Enrolment(
        phone=phone, name="Rosa Diaz", timezone=ZONE, time="20:00", channel=channel,
        confirmed=True, language=language))
    if "voice" in sub.channels:
        sub = svc.store.save(sub, sub.with_changes(voice_status="active"), [ConsentEvent(
            "voice", "opted_in", "cli", "agreed to automated calls on the phone")])
    return sub


@pytest.fixture
def web(twilio_services: Services, fake_twilio: FakeTwilio) -> Iterator[WebhookClient]:
    with serve(twilio_services) as base:
        twilio_services.care_handoff = None
        fake_twilio.calls.proxy = (PUBLIC_URL, base)
        yield WebhookClient(base, PUBLIC_URL, DEFAULT_AUTH_TOKEN)


def called(svc: Services, fake: FakeTwilio, sub: Subscriber, now: datetime) -> PlacedCall:
    outcome = svc.sender.deliver(sub.id, DAY, now)
    assert outcome.channels == {"voice": "sent"}
    [call] = fake.calls.to(CALLER)
    return call


def says(twiml: str) -> list[str]:
    return [el.text or "" for el in ET.fromstring(twiml).iter("Say")]


def test_the_evening_call_says_tonights_items_then_offers_the_keypad(
        twilio_services: Services, fake_twilio: FakeTwilio, evening: datetime) -> None:
    svc = twilio_services
    sub = person(svc, CALLER, "voice")
    call = called(svc, fake_twilio, sub, evening)
    assert call.from_ == "+15005550006" and call.form["MachineDetection"] == "Enable"
    root = ET.fromstring(call.twiml)  # what reached Twilio is XML
    assert root.tag == "Response"
    spoken = says(call.twiml)
    assert spoken[0].startswith("Hello, Rosa. This is the automated Foot Care Reminders call")
    check = spoken[spoken.index("First, tonight's foot check.") + 1]
    # The library's long form, spoken: whole words, no SMS shorthand.
    assert all(word in check for word in ("both feet", "soles", "between the toes",
                                          "Call your doctor today"))
    routine = spoken[spoken.index("Next, tonight's routine.") + 1]
    assert routine and spoken[spoken.index("And a safety note.") + 1]
    for text in spoken:
        tags = ["routine"] if text == routine else []
        assert test_content_safety.check_item_text(text, tags) == [], text
        assert not any(short in text for short in ("x10", " w/ ", "30s", "&"))
    gather = root.find("Gather")
    assert gather is not None and gather.get("input") == "dtmf" and gather.get("numDigits") == "1"
    assert gather.get("action", "").startswith(f"{PUBLIC_URL}/voice/gather?s={sub.id}&d={DAY}")
    assert "Press 1 when you have done it" in (gather.findtext("Say") or "")
    record = nights.read(svc.redis, sub.id, DAY)
    assert (record["voice"], record["voice_id"]) == ("sent", call.sid)
    # Exactly once: a second task for the evening places no second call.
    assert svc.sender.deliver(sub.id, DAY, evening).channels == {"voice": "already sent"}
    assert len(fake_twilio.calls.to(CALLER)) == 1 and fake_twilio.messages == []


def test_a_spanish_call_speaks_spanish_from_the_spanish_library(
        twilio_services: Services, fake_twilio: FakeTwilio, evening: datetime) -> None:
    sub = person(twilio_services, CALLER, "voice", language="es")
    call = called(twilio_services, fake_twilio, sub, evening)
    root = ET.fromstring(call.twiml)
    assert {el.get("language") for el in root.iter("Say")} == {"es-US"}
    spoken = says(call.twiml)
    assert spoken[0].startswith("Hola, Rosa.")
    check = spoken[spoken.index("Primero, la revisión de sus pies de hoy.") + 1]
    assert "ambos pies" in check and "plantas" in check
    routine = spoken[spoken.index("Luego, la rutina de hoy.") + 1]
    for text in spoken:
        tags = ["routine"] if text == routine else []
        assert test_content_safety_es.check_item_text(text, tags) == [], text
    assert "Marque 1" in (root.find("Gather").findtext("Say") or "")  # type: ignore[union-attr]


def test_key_1_records_done_as_the_text_done_does(
        twilio_services: Services, fake_twilio: FakeTwilio, web: WebhookClient,
        evening: datetime) -> None:
    svc = twilio_services
    caller, texter = person(svc, CALLER, "voice"), person(svc, TEXTER, "sms")
    call = called(svc, fake_twilio, caller, evening)
    [answer] = fake_twilio.calls.press(call.sid, "1")
    assert "Well done." in " ".join(says(answer))
    assert ET.fromstring(answer).find("Hangup") is not None
    assert web.text(TEXTER, "DONE").status_code == 200
    by_key, by_text = svc.store.get(caller.id), svc.store.get(texter.id)
    assert by_key is not None and by_text is not None
    assert (by_key.last_done, by_key.streak) == (by_text.last_done, by_text.streak) == (DAY, 1)
    assert nights.read(svc.redis, caller.id, DAY)["done"] == "1"
    assert nights.read(svc.redis, texter.id, DAY)["done"] == "1"


def test_key_3_then_a_digit_records_the_score_as_a_texted_score_does(
        twilio_services: Services, fake_twilio: FakeTwilio, web: WebhookClient,
        evening: datetime) -> None:
    svc = twilio_services
    caller, texter = person(svc, CALLER, "voice"), person(svc, TEXTER, "sms")
    call = called(svc, fake_twilio, caller, evening)
    ask, answer = fake_twilio.calls.press(call.sid, "3", "6")
    assert "Press one number from 0 to 9" in " ".join(says(ask))
    assert ET.fromstring(ask).find("Gather") is not None
    assert web.text(TEXTER, "6").status_code == 200
    assert nights.read(svc.redis, caller.id, DAY)["score"] == "6"
    assert nights.read(svc.redis, texter.id, DAY)["score"] == "6"
    assert "6" in " ".join(says(answer))


def test_key_2_opens_a_same_day_flag_and_tells_the_caller_whom_to_call(
        twilio_services: Services, fake_twilio: FakeTwilio, web: WebhookClient,
        evening: datetime) -> None:
    svc = twilio_services
    sub = person(svc, CALLER, "voice")
    call = called(svc, fake_twilio, sub, evening)
    [answer] = fake_twilio.calls.press(call.sid, "2")
    spoken = " ".join(says(answer))
    assert "call your doctor today" in spoken and "call 911" in spoken
    assert ET.fromstring(answer).find("Gather") is None
    after = svc.store.get(sub.id)
    assert after is not None and after.flag_open_on(DAY + timedelta(days=30))
    [report] = flags.read(svc.redis, sub.id)
    assert report["level"] == "same_day"
    assert report["text"] == "called about a foot problem, please call back"
    items = [item for _, item in inbox.read(svc.redis) if item.subscriber == sub.id]
    assert [(i.level, i.text) for i in items] == [
        ("same_day", "called about a foot problem, please call back")]
    # Tomorrow's items keep massage and heat out, as after a texted foot problem.
    tomorrow = svc.renderer.select(after, DAY + timedelta(days=1))
    assert not any(item.has("massage") or item.has("heat") for item in tomorrow.items)


def test_key_9_says_it_again_and_a_replayed_key_changes_nothing(
        twilio_services: Services, fake_twilio: FakeTwilio, web: WebhookClient,
        evening: datetime) -> None:
    svc = twilio_services
    sub = person(svc, CALLER, "voice")
    call = called(svc, fake_twilio, sub, evening)
    first = says(call.twiml)
    [again] = fake_twilio.calls.press(call.sid, "9")
    assert says(again) == first
    action = ET.fromstring(again).find("Gather").get("action", "")  # type: ignore[union-attr]
    params = {"AccountSid": svc.settings.twilio_account_sid, "CallSid": call.sid,
              "To": CALLER, "From": "+15005550006", "Digits": "2"}
    path = action.removeprefix(PUBLIC_URL)
    reply = web.post(path, params, sign_url=action)
    assert web.post(path, params, sign_url=action).text == reply.text  # Twilio's retry
    assert len(flags.read(svc.redis, sub.id)) == 1
    forged = web.post(path, {**params, "CallSid": new_sid("CA")}, signature="bad",
                      sign_url=action)
    assert forged.status_code == 403 and len(flags.read(svc.redis, sub.id)) == 1
    other = {**params, "CallSid": new_sid("CA"), "To": TEXTER}  # not a call to this person
    assert web.post(path, other, sign_url=action).status_code == 403


def test_key_7_ends_calls_like_stop_and_is_in_the_consent_log(
        twilio_services: Services, fake_twilio: FakeTwilio, web: WebhookClient,
        evening: datetime) -> None:
    svc = twilio_services
    sub = person(svc, CALLER, "voice")
    call = called(svc, fake_twilio, sub, evening)
    [answer] = fake_twilio.calls.press(call.sid, "7")
    assert "no more calls" in " ".join(says(answer))
    after = svc.store.get(sub.id)
    assert after is not None and after.voice_status == "opted_out"
    events = consent_log.history(svc.redis, sub.id)
    assert any(e.get("channel") == "voice" and e.get("action") == "opted_out" for e in events)
    with time_machine.travel(local(DAY + timedelta(days=1), time(20, 0, 5)), tick=True):
        outcome = svc.sender.deliver(sub.id, DAY + timedelta(days=1), datetime.now(UTC))
    assert outcome.channels == {"voice": "skipped"}
    assert len(fake_twilio.calls.to(CALLER)) == 1


def test_a_call_whose_answer_was_lost_is_found_in_the_calls_list_not_placed_again(
        twilio_services: Services, fake_twilio: FakeTwilio, evening: datetime) -> None:
    svc = twilio_services
    sub = person(svc, CALLER, "voice")
    fake_twilio.answer_late_next(1, seconds=3)  # placed at once, answered after the timeout
    with pytest.raises(RetryLater):
        svc.sender.deliver(sub.id, DAY, evening)
    [placed] = fake_twilio.calls.to(CALLER)
    assert nights.read(svc.redis, sub.id, DAY)["voice"] == "retry"
    fake_twilio.calls.answer(placed.sid)  # ringing through: it has its start time now
    later = evening + timedelta(seconds=30)
    assert svc.sender.deliver(sub.id, DAY, later).channels == {"voice": "sent"}
    assert len(fake_twilio.calls.to(CALLER)) == 1
    assert nights.read(svc.redis, sub.id, DAY)["voice_id"] == placed.sid


def test_an_answering_machine_gets_the_short_message_without_the_keypad(
        twilio_services: Services, fake_twilio: FakeTwilio, web: WebhookClient,
        evening: datetime) -> None:
    sub = person(twilio_services, CALLER, "voice")
    call = called(twilio_services, fake_twilio, sub, evening)
    assert fake_twilio.calls.machine(call.sid) == 204
    root = ET.fromstring(call.twiml)  # the live call's TwiML, replaced through the API
    assert root.find(".//Gather") is None and root.find("Hangup") is not None
    [message] = says(call.twiml)
    assert "Call your doctor today" in message and "911" in message
    assert test_content_safety.check_item_text(message, []) == []
