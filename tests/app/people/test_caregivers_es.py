"""A Spanish-speaking person's caregiver: the invitation, both sides' replies and the alert in
Spanish, on the wire (the signed webhook in, the fake Twilio API out)."""

from __future__ import annotations

import re

from reminders.app.people.preferences import Enrolment, enrol
from reminders.domain.gsm import count_segments
from reminders.wiring import Services
from testing.twilio_api import FakeTwilio
from tests.app.people.test_caregivers import CAREGIVER, PERSON, invite, svc, to_caregiver  # noqa: F401
from tests.conftest import Cli
from tests.webhook_client import WebhookClient


def test_a_spanish_persons_caregiver_texts_are_in_spanish(
        svc: Services, web: WebhookClient, fake_twilio: FakeTwilio,  # noqa: F811
        twilio_cli: Cli) -> None:
    enrol(svc.store, svc.settings, Enrolment(phone=PERSON, name="Ana López", confirmed=True,
                                             timezone="America/Chicago", time="20:00",
                                             language="es"))
    invite(twilio_cli)
    [invitation] = to_caregiver(fake_twilio)
    assert invitation.startswith("Foot Care Reminders: Ana quiere que usted reciba"), invitation
    assert "Responda SI" in invitation and "ALTO" in invitation
    assert "Pueden aplicarse tarifas de mensajes y datos" in invitation
    assert "gracias" in web.text(CAREGIVER, "SI").text
    assert "CUIDADOR NO" in web.text(PERSON, "CUIDADOR SI").text
    web.text(PERSON, "me salió una ampolla en el talón")
    [alert] = to_caregiver(fake_twilio)[1:]
    # The category and the advice, never her words (M7: the advice is hers, not the
    # caregiver's: "le recomendamos a Ana").
    assert re.match(r"Foot Care Reminders: Ana nos aviso de un posible problema del pie "
                    r"\(una herida o ampolla\) (hoy|esta noche); le recomendamos a Ana llamar hoy",
                    alert), alert
    assert "talon" not in alert and "salio" not in alert
    assert "llamar hoy a su médico" in alert and count_segments(alert).encoding == "GSM-7"
    assert "ya no recibirá".replace("á", "a") in web.text(CAREGIVER, "CUIDADOR NO").text
