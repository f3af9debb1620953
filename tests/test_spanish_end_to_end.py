"""Done-when of the Spanish issue: a person enrolled with language es gets the evening text, the
replies and the email in Spanish, on the wire (the fake Twilio API and a real SMTP server);
texting ENGLISH switches everything back."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from reminders.app.people.preferences import Enrolment, enrol
from reminders.domain.gsm import count_segments
from reminders.domain.schedule import send_instant
from reminders.wiring import Services
from testing.smtp import FakeSmtp
from testing.twilio_api import FakeTwilio
from tests.channels.test_email import email_env, fake_smtp, parts, svc  # noqa: F401 (fixtures)

PHONE = "+13125550142"
EVENING = date(2027, 1, 9)


def _due(day: date) -> datetime:
    return send_instant(day, datetime(2027, 1, 1, 20, 0).time(), ZoneInfo("America/Chicago"))


def test_spanish_everywhere_then_english_again(svc: Services, fake_smtp: FakeSmtp,  # noqa: F811
                                               fake_twilio: FakeTwilio) -> None:
    sub = enrol(svc.store, svc.settings, Enrolment(
        phone=PHONE, email="ana@example.org", name="Ana", timezone="America/Chicago",
        time="20:00", channel="both", confirmed=True, language="es"),
        datetime(2027, 1, 1, tzinfo=UTC))
    assert svc.sender.deliver(sub.id, EVENING, _due(EVENING)).channels == {
        "sms": "sent", "email": "sent"}
    [text] = fake_twilio.messages
    assert text.to == PHONE and "ALTO" in text.body and "STOP" not in text.body
    assert text.body.startswith(("Foot Care Reminders: Ana, su cuidado de pies de hoy:\n1. ",
                                 "Foot Care Reminders: cuidado de pies de hoy:\n1. ",
                                 "Foot Care Reminders:\n1. ", "FootCare:\n1. "))
    assert count_segments(text.body).encoding == "GSM-7"
    assert count_segments(text.body).segments <= svc.settings.sms_max_segments
    [mail] = fake_smtp.messages
    plain, markup = parts(mail.message)
    assert "cuidado de pies" in str(mail.message["Subject"])
    assert plain.startswith("Buenas noches, Ana.") and "Por qué importa" in plain
    assert "Primero, revise sus pies" in markup and 'lang="es"' in markup

    now = _due(EVENING) + timedelta(minutes=30)
    inbound = svc.inbound(now)
    assert "Muy bien" in (inbound.handle(PHONE, "LISTO") or "")
    assert "Muy bien" in (inbound.handle(PHONE, "DONE") or "")  # her language, any keyword
    red = svc.inbound(now).handle(PHONE, "tengo una ampolla en el talon") or ""
    assert "sin masaje ni calor" in red and "clinica del pie" in red, red
    sad = svc.inbound(now).handle(PHONE, "no puedo más") or ""
    assert "988 (oprima 2 para español)" in sad, sad
    assert "Pueden aplicarse tarifas" in (svc.inbound(now).handle(PHONE, "AYUDA") or "")
    week = svc.weekly.preview(svc.store.require(PHONE), EVENING + timedelta(days=1))
    assert week["sms"]["body"].startswith("Foot Care Reminders, su semana: LISTO 1 de 7 noches")
    assert "SEMANAL NO" in week["sms"]["body"] and "Buenas noches" in week["email"]["text"]

    back = svc.inbound(now).handle(PHONE, "ENGLISH") or ""
    assert "English" in back and svc.store.require(PHONE).language == "en"
    assert "Well done" in (svc.inbound(now).handle(PHONE, "DONE") or "")
    tomorrow = EVENING + timedelta(days=1)  # a Sunday: the weekly summary goes out too
    sent = svc.sender.deliver(sub.id, tomorrow, _due(tomorrow)).channels
    assert sent["sms"] == "sent" and sent["email"] == "sent" and sent["weekly"] == "sent"
    nightly, weekly = (m.body for m in fake_twilio.messages[-2:])
    assert nightly.rstrip().endswith("STOP to end.") and "ALTO" not in nightly
    assert weekly.startswith("Foot Care Reminders weekly: DONE on") and "LISTO" not in weekly
    texts = [parts(m.message)[0] for m in fake_smtp.messages[1:]]
    assert texts and all(t.startswith("Good evening, Ana.") for t in texts)
