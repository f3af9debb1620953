"""Choosing the evening call by text, and ending it: VOICE ON / OFF, LLAMADA SI / NO (the
person's own prior express consent, in the consent log with their words), and STOP, which ends
calls as well as texts. Texted through the signed webhook; what is checked is the record, the
consent log, and whether a call reaches the fake Twilio that evening.
"""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest
import requests
import time_machine

from reminders.domain.keywords import Kind, parse
from reminders.storage import consent_log, flags, nights
from reminders.wiring import Services
from testing.twilio_api import FakeTwilio
from tests.app.voice.test_voice import CALLER, DAY, local, person, web  # noqa: F401 (fixture)
from tests.conftest import Cli, make_services
from tests.webhook_client import WebhookClient, said


@pytest.mark.parametrize(("text", "arg", "language"), [
    ("VOICE ON", "on", "en"), ("voice on", "on", "en"), ("Calls off", "off", "en"),
    ("voice off.", "off", "en"), ("LLAMADA SI", "on", "es"), ("llamada sí", "on", "es"),
    ("Llamadas no", "off", "es")])
def test_the_voice_keywords_as_people_text_them(text: str, arg: str, language: str) -> None:
    command = parse(text)
    assert (command.kind, command.arg, command.language) == (Kind.VOICE, arg, language)


def test_voice_on_by_text_brings_the_evening_call_and_voice_off_ends_it(
        twilio_services: Services, fake_twilio: FakeTwilio, web: WebhookClient) -> None:  # noqa: F811
    svc = twilio_services
    with time_machine.travel(local(DAY, time(12, 0)), tick=True):
        sub = person(svc, CALLER, "sms")
        answer = web.text(CALLER, "VOICE ON")
    assert "automated call" in said(answer) and "VOICE OFF" in said(answer)
    after = svc.store.get(sub.id)
    assert after is not None and after.voice_status == "active"
    assert after.channels == {"sms", "voice"}
    [event] = [e for e in consent_log.history(svc.redis, sub.id) if e["channel"] == "voice"]
    assert (event["action"], event["source"], event["words"]) == ("opted_in", "sms", "VOICE ON")
    with time_machine.travel(local(DAY, time(20, 0, 5)), tick=True):
        outcome = svc.sender.deliver(sub.id, DAY, datetime.now(UTC))
    assert outcome.channels == {"sms": "sent", "voice": "sent"}
    assert len(fake_twilio.calls.to(CALLER)) == 1

    with time_machine.travel(local(DAY, time(21, 0)), tick=True):
        assert "no more calls" in said(web.text(CALLER, "voice off"))
    after = svc.store.get(sub.id)
    assert after is not None and (after.voice_status, after.sms_status) == ("opted_out",
                                                                            "active")


def test_llamada_si_is_answered_in_spanish(
        twilio_services: Services, web: WebhookClient) -> None:  # noqa: F811
    with time_machine.travel(local(DAY, time(12, 0)), tick=True):
        sub = person(twilio_services, CALLER, "sms", language="es")
        reply = said(web.text(CALLER, "Llamada si"))
    assert reply.startswith("Listo: recibira una llamada automatizada")
    after = twilio_services.store.get(sub.id)
    assert after is not None and after.voice_status == "active"


def test_stop_by_text_ends_calls_too(
        twilio_services: Services, fake_twilio: FakeTwilio, web: WebhookClient) -> None:  # noqa: F811
    svc = twilio_services
    with time_machine.travel(local(DAY, time(12, 0)), tick=True):
        sub = person(svc, CALLER, "voice")
        assert web.text(CALLER, "STOP").status_code == 200
    after = svc.store.get(sub.id)
    assert after is not None and after.voice_status == "opted_out"
    with time_machine.travel(local(DAY, time(20, 0, 5)), tick=True):
        outcome = svc.sender.deliver(sub.id, DAY, datetime.now(UTC))
    assert outcome.channels == {"voice": "skipped"}
    assert fake_twilio.calls.to(CALLER) == []


def test_an_operator_turns_calls_on_only_with_the_persons_recorded_agreement(
        twilio_env: dict[str, str], fake_twilio: FakeTwilio) -> None:
    cli = Cli(twilio_env)
    svc = make_services(twilio_env)
    with time_machine.travel(local(DAY, time(12, 0)), tick=True):
        sub = person(svc, CALLER, "sms")
        # A channel alone is no consent: the call stays off until they agreed.
        assert cli("set", CALLER, "channel=sms,voice").returncode == 0
        refused = cli("set", CALLER, "voice_agreed=")
        assert refused.returncode != 0 and "recorded agreement" in refused.stderr
        after = svc.store.get(sub.id)
        assert after is not None and after.voice_status == "none"
        with time_machine.travel(local(DAY, time(20, 0, 5)), tick=True):
            outcome = svc.sender.deliver(sub.id, DAY, datetime.now(UTC))
        assert outcome.channels["voice"] == "skipped" and fake_twilio.calls.to(CALLER) == []
        agreed = "voice_agreed=said yes to automated calls when we phoned her, 2026-12-02"
        assert cli("set", CALLER, agreed).returncode == 0
    after = svc.store.get(sub.id)
    assert after is not None and after.voice_status == "active" and "voice" in after.channels
    [event] = [e for e in consent_log.history(svc.redis, sub.id)
               if e["channel"] == "voice" and e["action"] == "opted_in"]
    assert event["source"] == "cli" and "said yes to automated calls" in event["words"]


def test_bad_voice_webhooks_get_a_clear_error_and_change_nothing(
        twilio_services: Services, fake_twilio: FakeTwilio, web: WebhookClient) -> None:  # noqa: F811
    svc = twilio_services
    with time_machine.travel(local(DAY, time(20, 0, 5)), tick=True):
        sub = person(svc, CALLER, "voice")
        svc.sender.deliver(sub.id, DAY, datetime.now(UTC))
    [call] = fake_twilio.calls.to(CALLER)
    base = {"AccountSid": svc.settings.twilio_account_sid, "CallSid": call.sid, "To": CALLER,
            "From": "+15005550006", "Digits": "2"}
    good = f"/voice/gather?s={sub.id}&d={DAY}&step=menu&n=0"
    for path, params, status in [
            (f"/voice/gather?s={sub.id}&d=2026-13-45&step=menu&n=0", base, 400),
            (f"/voice/gather?s={sub.id}&d={DAY}&step=drop&n=0", base, 400),
            (f"/voice/gather?s={sub.id}&d={DAY}&step=menu&n=99999", base, 400),
            (f"/voice/gather?s={sub.id}&d={DAY}&step=menu", base, 400),
            (good, {**base, "Digits": "2" * 5000}, 400),
            (good, {**base, "AccountSid": "AC" + "f" * 32}, 403),
            (f"/voice/gather?s=999999999&d={DAY}&step=menu&n=0", base, 403),
            ("/voice/status", {**base, "CallStatus": ""}, 400),
            ("/voice/status", {**base, "CallSid": "CAunknown", "CallStatus": "busy"}, 204),
            ("/voice/amd", {**base, "AnsweredBy": "x" * 100}, 400),
            ("/voice/amd", {**base, "To": "not a phone", "AnsweredBy": "human"}, 204)]:
        answer = web.post(path, params)
        assert answer.status_code == status, (path, answer.text)
        assert "Traceback" not in answer.text
    assert requests.get(web.base_url + good, timeout=5).status_code == 405
    assert flags.read(svc.redis, sub.id) == [] and len(fake_twilio.calls.placed) == 1
    assert nights.read(svc.redis, sub.id, DAY)["voice"] == "sent"
