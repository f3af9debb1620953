"""What a person hears back when they text about their body, end to end: the signed webhook (or
`reminders reply`), a real Redis, the fake Twilio API at the wire. Asserted: the TwiML reply,
what reached the fake provider (the caregiver's alert), the consent state, the open flag that
`show --json` lists, and the inbox entry kept for the care team.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from reminders.app.people.preferences import Enrolment, enrol
from reminders.domain.gsm import count_segments
from reminders.domain.subscriber import Subscriber
from reminders.storage import inbox
from reminders.wiring import Services
from testing.twilio_api import FakeTwilio
from tests.conftest import Cli, make_services
from tests.webhook_client import WebhookClient, answering_here, said

PERSON = "+13125550142"
CAREGIVER = "+13125550177"
OTHER_PERSON = "+13125550143"


@pytest.fixture
def svc(twilio_env: dict[str, str]) -> Services:
    services = make_services(twilio_env)
    services.care_handoff = None  # no worker here: the alert is sent where it was heard
    return services


@pytest.fixture
def web(svc: Services) -> Iterator[WebhookClient]:
    with answering_here(svc) as client:
        yield client


def enrolled(svc: Services, language: str = "en", name: str = "Ana Lopez") -> Subscriber:
    return enrol(svc.store, svc.settings, Enrolment(
        phone=PERSON, name=name, confirmed=True, timezone="America/Chicago", time="20:00",
        language=language))



def shown(cli: Cli) -> dict[str, object]:
    return json.loads(cli("show", PERSON, "--json").stdout)  # type: ignore[no-any-return]


# (language, text, words the reply must hold, whether a flag opens)
LEVELS = [
    ("en", "I have chest pain and my arm is numb", ["Call 911 now"], False),
    ("es", "me duele el pecho", ["Llame al 911 ahora"], False),
    ("en", "I'm going to end it tonight", ["988", "911"], False),
    ("es", "me quiero matar", ["988 (oprima 2 para español)"], False),
    ("en", "red streaks going up my leg", ["urgent care or the ER"], True),
    ("es", "tengo rayas rojas que suben por la pierna",
     ["urgent care o a la sala de emergencias"], True),
    ("en", "blistr on my heel", ["foot clinic today", "no massage or heat"], True),
    ("es", "se me hizo una ampoya en el talón", ["llame hoy a su médico", "sin masaje ni calor"],
     True),
    ("en", "tingling much worse since my last chemo", ["care team", "next few days"], False),
    ("es", "estoy muy deprimida", ["988"], False),
    ("en", "can I soak my feet in epsom salt", ["don't soak", "Epsom"], False),
    ("es", "puedo usar una almohadilla eléctrica en los pies", ["almohadilla"], False),
]


@pytest.mark.parametrize(("language", "text", "words", "flagged"), LEVELS,
                         ids=[f"{r[0]}:{r[1][:30]}" for r in LEVELS])
def test_each_level_gets_its_answer_through_the_signed_webhook(
        svc: Services, web: WebhookClient, twilio_cli: Cli, language: str, text: str,
        words: list[str], flagged: bool) -> None:
    enrolled(svc, language)
    response = web.text(PERSON, text)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/xml")
    reply = said(response)
    for word in words:
        assert word.lower() in reply.lower(), (word, reply)
    assert "didn't understand" not in reply and "no entend" not in reply
    flags = shown(twilio_cli)["flags"]
    assert bool(flags) is flagged, flags
    if flagged:
        assert flags[0]["text"] == text  # type: ignore[index]
    assert svc.store.require(PERSON).sms_status == "active"  # never an opt-out by itself


def test_spanish_urgency_never_says_urgencias(svc: Services, web: WebhookClient) -> None:
    """In US Spanish "urgencias" is the emergency room: the Spanish answers say what the English
    ones say (urgent care or the ER)."""
    enrolled(svc, "es")
    for text in ("el dedo se puso negro", "tengo una herida que se extiende y fiebre",
                 "dolor 9, insoportable"):
        reply = said(web.text(PERSON, text))
        assert "urgencias" not in reply.lower() and "sala de emergencias" in reply, reply


def test_several_findings_get_the_most_urgent_answer_in_one_text(
        svc: Services, web: WebhookClient, twilio_cli: Cli) -> None:
    enrolled(svc)
    reply = said(web.text(PERSON, "I want to die, and my heel has a blister"))
    assert "988" in reply and "doctor today" in reply and "no massage or heat" in reply, reply
    assert reply.count("automated") == 1 and count_segments(reply).segments <= 2, reply
    assert [f["category"] for f in shown(twilio_cli)["flags"]] == ["wound"]  # type: ignore[union-attr]


@pytest.mark.parametrize(("text", "care_words"), [
    ("STOP texting me, this is worthless", "988"),
    ("ALTO, no tiene sentido", "988"),
    ("stop. I want to die", "988"),
    ("Stop please, my foot is bleeding", "doctor today"),
])
def test_stop_always_wins_is_recorded_and_one_confirmation_adds_what_was_needed(
        svc: Services, web: WebhookClient, text: str, care_words: str) -> None:
    """Even with OPT_OUT_HANDLED_BY=twilio (these tests' setting): Twilio answers only its
    one-word keywords, so the confirmation with the 988 line is ours, and it is one text."""
    assert svc.settings.opt_out_handled_by == "twilio"
    sub = enrolled(svc)
    reply = said(web.text(PERSON, text))
    assert svc.store.require(PERSON).sms_status == "opted_out"
    assert care_words in reply.replace("médico", "doctor").replace("medico", "doctor") or (
        care_words == "doctor today" and "llame hoy" in reply), reply
    assert "START" in reply or "UNIRME" in reply
    history = svc.store.consent_history(sub.id)
    assert [e["words"] for e in history if e["action"] == "opted_out"] == [text]


def test_a_plain_stop_is_still_answered_by_twilio_alone(svc: Services, web: WebhookClient) -> None:
    enrolled(svc)
    assert said(web.text(PERSON, "STOP")) == ""
    assert svc.store.require(PERSON).sms_status == "opted_out"


@pytest.mark.parametrize(("language", "text", "expected"), [
    ("en", "what is this", "This line is automated. Emergency? Call 911. A foot problem? Call "
                           "your doctor today. Reply HELP for commands."),
    ("es", "quién es", "Esta linea es automatica. ¿Emergencia? Llame al 911. ¿Un problema del "
                       "pie? Llame hoy a su médico. Responda AYUDA para ver los comandos."),
])
def test_a_text_nobody_understood_gets_the_safety_net_and_is_kept_for_a_person(
        svc: Services, web: WebhookClient, language: str, text: str, expected: str) -> None:
    enrolled(svc, language)
    assert said(web.text(PERSON, text)) == expected
    [(_, item)] = inbox.read(svc.redis)
    assert (item.phone, item.text, item.level, item.category) == (
        PERSON, text, "none", "not_understood")


def test_what_needs_a_person_goes_to_the_inbox_and_forget_erases_it(
        svc: Services, web: WebhookClient, twilio_cli: Cli) -> None:
    enrolled(svc)
    web.text(PERSON, "my ankle is swollen")
    web.text(PERSON, "no blisters today")  # a good report: nothing for a person to do
    items = [item for _, item in inbox.read(svc.redis)]
    assert [(i.level, i.category, i.text) for i in items] == [
        ("same_day", "swelling", "my ankle is swollen")]
    assert twilio_cli("forget", PERSON).returncode == 0
    assert inbox.read(svc.redis) == []


def test_help_me_please_is_help_and_help_says_the_line_is_automated(
        svc: Services, web: WebhookClient) -> None:
    enrolled(svc)
    reply = said(web.text(PERSON, "help me please"))
    assert "automated, not watched by staff" in reply and "911" in reply and "STOP" in reply


def test_a_good_report_gets_a_kind_answer_and_done_is_recorded(
        svc: Services, web: WebhookClient) -> None:
    enrolled(svc)
    assert "glad your feet look OK" in said(web.text(PERSON, "no blisters today"))
    reply = said(web.text(PERSON, "Done. Feet look fine, no cuts"))
    assert "Well done" in reply and svc.store.require(PERSON).streak == 1


def caregiver_ready(svc: Services, web: WebhookClient, twilio_cli: Cli) -> None:
    assert twilio_cli("caregiver", "add", PERSON, CAREGIVER, "--name", "Bob").returncode == 0
    web.text(CAREGIVER, "YES")
    web.text(PERSON, "CARE YES")


def to_caregiver(fake: FakeTwilio) -> list[str]:
    return [m.body for m in fake.messages if m.to == CAREGIVER][1:]  # after the invitation


def test_the_caregiver_hears_the_category_never_the_words(
        svc: Services, web: WebhookClient, twilio_cli: Cli, fake_twilio: FakeTwilio) -> None:
    enrolled(svc)
    caregiver_ready(svc, web, twilio_cli)
    web.text(PERSON, "I'm on chemo for breast cancer and my heel has a blister")
    [alert] = to_caregiver(fake_twilio)
    hour = datetime.now(UTC).astimezone(ZoneInfo("America/Chicago")).hour
    when = "tonight" if hour >= 17 else "today"
    assert alert == (f"Foot Care Reminders: Ana reported a possible foot problem (a wound or "
                     f"blister) {when}; we advised Ana to call the doctor today. STOP to end "
                     "caregiver texts."), alert
    for private in ("chemo", "cancer", "breast", "heel"):
        assert private not in alert.lower()


def test_an_emergency_tells_the_caregiver_911_and_a_crisis_tells_them_nothing(
        svc: Services, web: WebhookClient, twilio_cli: Cli, fake_twilio: FakeTwilio) -> None:
    enrolled(svc)
    caregiver_ready(svc, web, twilio_cli)
    web.text(PERSON, "I want to kill myself")
    assert to_caregiver(fake_twilio) == []
    web.text(PERSON, "my foot is suddenly cold and pale and it hurts")
    [alert] = to_caregiver(fake_twilio)
    assert "call 911" in alert and "cold, pale foot" in alert and "hurts" not in alert


def test_reply_json_says_what_was_made_of_the_text(svc: Services, twilio_cli: Cli) -> None:
    enrolled(svc)
    out = twilio_cli("reply", PERSON, "my", "toe", "is", "swollen", "--json")
    assert out.returncode == 0, out.stderr
    heard = json.loads(out.stdout)
    assert heard["command"] == "unknown" and heard["flag"] is True
    assert heard["triage"] == {"level": "same_day", "category": "swelling"}
    assert "foot clinic today" in heard["reply"]
    plain = twilio_cli("reply", PERSON, "TIME", "9pm", "--at", "2027-03-10T02:30:00Z")
    assert plain.returncode == 0 and plain.stdout.strip().startswith("Done: your foot-care text")
    assert len(plain.stdout.strip().splitlines()) == 1  # the reply only, no log lines
    bad = twilio_cli("reply", PERSON, "hi", "--at", "yesterday")
    assert bad.returncode == 2 and "--at" in bad.stderr


def test_a_fever_on_cancer_treatment_is_care_now_and_otherwise_the_doctor_today(
        svc: Services, web: WebhookClient) -> None:
    # Fever during chemotherapy can be neutropenic sepsis: the cancer team's 24-hour line or
    # the ER now (foot-care-guidance.md); for the others a fever alone is a call today.
    enrol(svc.store, svc.settings, Enrolment(
        phone=PERSON, name="Ana", confirmed=True, timezone="America/Chicago", time="20:00",
        cause="cancer_treatment"))
    on_treatment = said(web.text(PERSON, "i have a fever 101 and chills"))
    enrol(svc.store, svc.settings, Enrolment(
        phone=OTHER_PERSON, name="Bo", confirmed=True, timezone="America/Chicago",
        time="20:00", cause="diabetes"))
    other = said(web.text(OTHER_PERSON, "i have a fever 101 and chills"))
    assert "now" in on_treatment.lower() and "911" not in on_treatment, on_treatment
    assert "today" in other.lower() and other != on_treatment, other
