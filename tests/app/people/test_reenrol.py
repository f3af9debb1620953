"""An operator cannot consent for someone: `set phone=`/`email=` and the console's person form.

A number that texted STOP and an address that unsubscribed are refused with a clear message;
a new number or address is pending until its owner confirms, and gets the confirmation that
`subscribe` sends. What counts is what reached the fake Twilio API and the SMTP server.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from reminders.app.people import email_consent
from reminders.app.people.preferences import Enrolment, enrol
from reminders.entry.web.app import create_app
from reminders.wiring import Services
from testing.smtp import FakeSmtp
from testing.twilio_api import FakeTwilio
from tests.conftest import Cli, make_services
from tests.console_client import add_operator, logged_in

ACTIVE = "+13125550160"  # Ana, texts every evening
STOPPED = "+13125550161"  # texted ALTO once
PLEADED = "+13125550162"  # texted "please stop texting me"
FRESH = "+13125550163"  # nobody has it yet
MAILER = "bo@example.org"  # Bo, email only
GONE = "gone@example.org"  # used one-click unsubscribe


@pytest.fixture
def svc(plain_email_env: dict[str, str]) -> Services:
    services = make_services(plain_email_env)
    now = datetime.now(UTC)
    enrol(services.store, services.settings, Enrolment(
        phone=ACTIVE, name="Ana", timezone="America/Chicago", time="20:00", confirmed=True))
    enrol(services.store, services.settings, Enrolment(
        email=MAILER, name="Bo", timezone="America/Chicago", time="20:00", confirmed=True))
    for phone, words in ((STOPPED, "ALTO"), (PLEADED, "please stop texting me")):
        enrol(services.store, services.settings, Enrolment(
            phone=phone, timezone="America/Chicago", time="20:00", confirmed=True))
        services.inbound(now).handle(phone, words)
        assert services.store.require(phone).sms_status == "opted_out"
        services.store.delete(services.store.require(phone), suppress=True)  # `forget`
    enrol(services.store, services.settings, Enrolment(
        email=GONE, timezone="America/Chicago", time="20:00", confirmed=True))
    email_consent.unsubscribe(services.store, GONE, now)
    services.store.delete(services.store.require(GONE), suppress=True)
    return services


@pytest.fixture
def cli(plain_email_env: dict[str, str], svc: Services) -> Cli:
    return Cli(plain_email_env)


def shown(cli: Cli, handle: str) -> dict[str, object]:
    result = cli("show", handle, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


@pytest.mark.parametrize("who,assignments,refused", [
    (MAILER, [f"phone={STOPPED}", "channel=both"], "asked us to stop texting"),
    (MAILER, [f"phone={STOPPED}"], "asked us to stop texting"),
    (ACTIVE, [f"phone={PLEADED}"], "asked us to stop texting"),
    (ACTIVE, [f"email={GONE}", "channel=both"], "unsubscribed from our emails"),
    (MAILER, [f"email={GONE}"], "unsubscribed from our emails"),
])
def test_set_refuses_a_number_or_address_that_opted_out(
        cli: Cli, svc: Services, fake_twilio: FakeTwilio, fake_smtp: FakeSmtp,
        who: str, assignments: list[str], refused: str) -> None:
    before = shown(cli, who)
    result = cli("set", who, *assignments)
    assert result.returncode == 2
    assert refused in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert shown(cli, who) == before
    sent = cli("send-now", who)
    assert sent.returncode == 0, sent.stderr
    assert not fake_twilio.messages_to(STOPPED) and not fake_twilio.messages_to(PLEADED)
    assert all(GONE not in m.rcpt_tos for m in fake_smtp.messages)


def test_a_new_number_waits_for_its_owner_and_is_asked_like_subscribe_asks(
        cli: Cli, svc: Services, fake_twilio: FakeTwilio) -> None:
    result = cli("set", ACTIVE, f"phone={FRESH}")
    assert result.returncode == 0, result.stderr
    assert shown(cli, FRESH)["sms_status"] == "pending"
    asked = fake_twilio.messages_to(FRESH)
    assert len(asked) == 1 and "YES" in asked[0].body and "STOP" in asked[0].body
    cli("send-now", FRESH)
    assert len(fake_twilio.messages_to(FRESH)) == 1  # nothing but the confirmation
    svc.inbound(datetime.now(UTC)).handle(FRESH, "YES")
    assert shown(cli, FRESH)["sms_status"] == "active"
    history = svc.store.consent_history(svc.store.require(FRESH).id)
    assert [(e["channel"], e["action"], e["source"]) for e in history[-3:-1]] == [
        ("sms", "subscribed", "cli"), ("sms", "confirmation_sent", "service")]


def test_turning_sms_on_for_an_unconfirmed_number_asks_first(
        cli: Cli, svc: Services, fake_twilio: FakeTwilio) -> None:
    assert cli("set", MAILER, f"phone={FRESH}").returncode == 0
    assert shown(cli, MAILER)["sms_status"] == "none" and not fake_twilio.messages_to(FRESH)
    assert cli("set", MAILER, "channel=both").returncode == 0
    assert shown(cli, MAILER)["sms_status"] == "pending"
    assert len(fake_twilio.messages_to(FRESH)) == 1


def test_a_new_address_waits_for_its_click_and_gets_the_confirmation_email(
        cli: Cli, svc: Services, fake_smtp: FakeSmtp) -> None:
    result = cli("set", ACTIVE, "email=new@example.org", "channel=both")
    assert result.returncode == 0, result.stderr
    info = shown(cli, ACTIVE)
    assert (info["email_status"], info["sms_status"]) == ("pending", "active")
    mail = fake_smtp.wait_for(1)
    assert mail[0].rcpt_tos == ["new@example.org"] and "confirm" in mail[0].raw.decode().lower()


def test_the_console_form_refuses_the_same_and_says_why(
        svc: Services, fake_twilio: FakeTwilio, fake_smtp: FakeSmtp) -> None:
    add_operator(svc)
    console = logged_in(create_app(svc))
    console.get(f"/console/people/{ACTIVE}")
    response = console.post(f"/console/people/{ACTIVE}", {"phone": PLEADED, "name": "Ana"})
    assert response.status_code == 400
    assert "asked us to stop texting" in response.get_data(as_text=True)
    assert svc.store.require(ACTIVE).phone == ACTIVE
    console.get(f"/console/people/{MAILER}")
    response = console.post(f"/console/people/{MAILER}", {"phone": STOPPED, "channel": "both"})
    assert response.status_code == 400 and svc.store.require(MAILER).phone is None
    console.get(f"/console/people/{MAILER}")
    console.post(f"/console/people/{MAILER}/send-now", {})
    response = console.post(f"/console/people/{ACTIVE}", {"email": GONE, "channel": "both"})
    assert response.status_code == 400 and svc.store.require(ACTIVE).email is None
    assert not fake_twilio.messages_to(STOPPED) and not fake_twilio.messages_to(PLEADED)
    assert all(GONE not in m.rcpt_tos for m in fake_smtp.messages)
    # A fresh number through the form: pending, and asked.
    console.get(f"/console/people/{ACTIVE}")
    response = console.post(f"/console/people/{ACTIVE}", {"phone": FRESH})
    assert response.status_code == 302
    assert svc.store.require(FRESH).sms_status == "pending"
    assert len(fake_twilio.messages_to(FRESH)) == 1
