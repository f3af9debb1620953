"""One caregiver YES agrees to one invitation: when a number has several waiting, YES accepts the
oldest and the reply names that person; the others stay waiting for a YES of their own. Texts
arrive through the signed webhook; the reply is what Twilio got back.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from reminders.app.people.preferences import Enrolment, enrol
from reminders.wiring import Services
from testing.twilio_api import FakeTwilio
from tests.conftest import Cli, make_services
from tests.webhook_client import WebhookClient, answering_here

ANA, BEA = "+13125550142", "+13125550143"
CAREGIVER = "+13125550177"


@pytest.fixture
def svc(twilio_env: dict[str, str]) -> Services:
    services = make_services(twilio_env)
    services.care_handoff = None
    for phone, name in ((ANA, "Ana Lopez"), (BEA, "Bea Ruiz")):
        enrol(services.store, services.settings, Enrolment(
            phone=phone, name=name, confirmed=True, timezone="America/Chicago", time="20:00"))
    return services


@pytest.fixture
def web(svc: Services) -> Iterator[WebhookClient]:
    with answering_here(svc) as client:
        yield client


@pytest.fixture
def invited(svc: Services, twilio_cli: Cli, fake_twilio: FakeTwilio) -> None:
    for person in (ANA, BEA):  # Ana's invitation first
        done = twilio_cli("caregiver", "add", person, CAREGIVER, "--name", "Carl")
        assert done.returncode == 0, done.stderr
    assert [m.to for m in fake_twilio.messages].count(CAREGIVER) == 2


def status(twilio_cli: Cli, person: str) -> str:
    shown = json.loads(twilio_cli("show", person, "--json").stdout)
    return str(shown["caregiver"]["status"])


def test_a_plain_yes_accepts_the_oldest_invitation_only(
        invited: None, web: WebhookClient, twilio_cli: Cli) -> None:
    first = web.text(CAREGIVER, "YES").text
    assert "Ana" in first and "Bea" not in first
    assert status(twilio_cli, ANA) == "waiting_for_person"
    assert status(twilio_cli, BEA) == "waiting_for_both"
    second = web.text(CAREGIVER, "Yes").text
    assert "Bea" in second and "Ana" not in second
    assert status(twilio_cli, BEA) == "waiting_for_person"


def test_only_the_accepted_link_carries_alerts(
        invited: None, web: WebhookClient, twilio_cli: Cli, fake_twilio: FakeTwilio) -> None:
    web.text(CAREGIVER, "YES")  # Ana's
    web.text(ANA, "CARE YES")
    web.text(BEA, "CARE YES")
    assert status(twilio_cli, ANA) == "active"
    assert status(twilio_cli, BEA) == "waiting_for_caregiver"
    web.text(BEA, "there is pus on my big toe")
    web.text(ANA, "there is pus on my big toe")
    alerts = [m.body for m in fake_twilio.messages
              if m.to == CAREGIVER and "reported a possible foot problem" in m.body]
    assert len(alerts) == 1 and "Ana" in alerts[0] and "Bea" not in alerts[0]
