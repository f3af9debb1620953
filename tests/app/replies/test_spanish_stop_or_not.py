"""Spanish texts that start with a stop word but are about tonight are not opt-outs.

"para" is the preposition "for" as often as the verb "stop", "baja" is "low" as often as
"unsubscribe", and "alto" is "high": "para esta noche" (for tonight), "baja hoy" (low today: a
sugar, a pain), "alto hoy". Even read as "stop tonight" such a text asks for one evening off,
and "stop tonight" in English does not opt out either. They get the not-understood answer (911
for an emergency, the doctor for a foot problem, AYUDA for the commands, whose answer names
ALTO), so someone who did mean to stop learns the word; the person stays subscribed. The
plain requests ("PARA", "para ya", "baja por favor", "ya no quiero mensajes") still stop at
once. Decided in docs/text-commands.md; the texts are written as people send them (capitals or
not, accents or not, punctuation).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from reminders.app.people.preferences import Enrolment, enrol
from reminders.domain.keywords import parse
from reminders.wiring import Services
from tests.webhook_client import WebhookClient, answering_here, said

PHONE = "+13125550177"

ABOUT_TONIGHT = ["para esta noche", "Para esta noche?", "para hoy", "PARA HOY", "baja hoy",
                 "Baja hoy.", "baja esta noche", "alto hoy", "Para esta noche!!",
                 "para mañana", "para manana", "cancelar hoy", "basta por hoy"]
STOPS = ["PARA", "Para", "para ya", "Para por favor", "para, gracias", "BAJA", "baja por favor",
         "Baja ya", "ALTO", "alto!", "ya no quiero mensajes", "Ya no quiero mas mensajes",
         "quiero darme de baja", "Para. Esta noche no.", "para ya por favor, no quiero mensajes"]


@pytest.mark.parametrize("text", ABOUT_TONIGHT)
def test_a_stop_word_about_tonight_is_not_read_as_stop(text: str) -> None:
    assert parse(text).kind != "stop", text


@pytest.mark.parametrize("text", STOPS)
def test_a_plain_request_to_stop_is_still_stop(text: str) -> None:
    command = parse(text)
    assert command.kind == "stop" and command.language == "es", (text, command)


@pytest.fixture
def web(twilio_services: Services) -> Iterator[WebhookClient]:
    enrol(twilio_services.store, twilio_services.settings, Enrolment(
        phone=PHONE, name="Rosa", timezone="America/Chicago", time="20:00", confirmed=True,
        language="es"))
    with answering_here(twilio_services) as client:
        yield client


@pytest.mark.parametrize("text", ["para esta noche", "baja hoy"])
def test_about_tonight_through_the_webhook_keeps_them_subscribed_and_shows_the_way(
        web: WebhookClient, twilio_services: Services, text: str) -> None:
    reply = said(web.text(PHONE, text))
    sub = twilio_services.store.require(PHONE)
    assert sub.sms_status == "active" and sub.paused_until is None
    assert "AYUDA" in reply and "no recibira mas mensajes" not in reply.lower(), reply
    assert "ALTO" in said(web.text(PHONE, "AYUDA"))  # the word, for one who meant to stop
    assert twilio_services.store.require(PHONE).sms_status == "active"


@pytest.mark.parametrize("text", ["PARA", "baja por favor"])
def test_a_plain_stop_through_the_webhook_stops(web: WebhookClient,
                                                twilio_services: Services, text: str) -> None:
    reply = said(web.text(PHONE, text))
    assert twilio_services.store.require(PHONE).sms_status == "opted_out"
    assert "no recibira mas mensajes" in reply.lower().replace("á", "a"), reply
