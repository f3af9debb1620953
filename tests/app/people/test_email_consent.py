"""EMAIL texted to us: the address as typed, the suppression list, and a bounded side effect.

Everything goes through the signed webhook; what counts is what reached the SMTP server.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from xml.etree import ElementTree

import pytest

from reminders.app.people import email_consent
from reminders.app.people.preferences import Enrolment, enrol
from reminders.domain.subscriber import Subscriber
from reminders.wiring import Services
from testing.smtp import FakeSmtp
from testing.twilio_api import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN
from tests.conftest import make_services
from tests.webhook_client import WebhookClient, serve

PHONE = "+13125550142"
OTHER_PHONE = "+13125550143"
VICTIM = "victim@example.org"


@pytest.fixture
def svc(plain_email_env: dict[str, str]) -> Services:
    return make_services(plain_email_env)


@pytest.fixture
def web(svc: Services) -> Iterator[WebhookClient]:
    with serve(svc) as base:
        yield WebhookClient(base, svc.settings.public_url, DEFAULT_AUTH_TOKEN)


class Texter:
    """One phone texting us; every text has its own MessageSid, as Twilio's do."""

    sent = 0

    def __init__(self, web: WebhookClient, phone: str) -> None:
        self.web, self.phone = web, phone

    def __call__(self, body: str) -> str | None:
        Texter.sent += 1
        response = self.web.text(self.phone, body, MessageSid=f"SM{Texter.sent:032x}",
                                 AccountSid=DEFAULT_ACCOUNT_SID)
        assert response.status_code == 200, response.text
        messages = [m.text for m in ElementTree.fromstring(response.text).iter("Message")]
        return messages[0] if messages else None


def person(svc: Services, phone: str = PHONE) -> Subscriber:
    return enrol(svc.store, svc.settings, Enrolment(phone=phone, timezone="America/Chicago",
                                                    time="20:00", confirmed=True))


def mailed_to(smtp: FakeSmtp, address: str) -> int:
    return sum(address in received.rcpt_tos for received in smtp.messages)


def test_the_address_is_taken_from_the_text_as_typed(svc: Services, web: WebhookClient,
                                                     fake_smtp: FakeSmtp) -> None:
    person(svc)
    reply = Texter(web, PHONE)("EMAIL First&Last@Example.com")
    assert reply is not None and "First&Last@example.com" in reply
    stored = svc.store.find(PHONE)
    assert stored is not None and stored.email == "First&Last@example.com"
    [received] = fake_smtp.wait_for(1)
    assert received.rcpt_tos == ["First&Last@example.com"]
    assert "First&Last@example.com" in str(received.message["To"])
    # The index is case-insensitive: the same mailbox typed differently is the same person.
    assert svc.store.find("first&last@EXAMPLE.com") == stored


def test_trailing_punctuation_is_not_part_of_the_address(svc: Services, web: WebhookClient,
                                                         fake_smtp: FakeSmtp) -> None:
    person(svc)
    Texter(web, PHONE)("Email: Ana.Lima+feet@Example.org.")
    stored = svc.store.find(PHONE)
    assert stored is not None and stored.email == "Ana.Lima+feet@example.org"
    assert fake_smtp.wait_for(1)[0].rcpt_tos == ["Ana.Lima+feet@example.org"]


def test_a_suppressed_address_gets_no_confirmation(svc: Services, web: WebhookClient,
                                                   fake_smtp: FakeSmtp) -> None:
    person(svc)
    # The owner of the address clicked unsubscribe (and may have been forgotten since).
    email_consent.unsubscribe(svc.store, VICTIM, datetime.now(UTC))
    reply = Texter(web, PHONE)(f"EMAIL {VICTIM.upper()}")
    assert reply is not None and "asked us not to email" in reply
    stored = svc.store.find(PHONE)
    assert stored is not None and stored.email is None and stored.channel == "sms"
    assert fake_smtp.messages == []


def test_an_address_that_unsubscribed_is_not_asked_again(svc: Services, web: WebhookClient,
                                                         fake_smtp: FakeSmtp) -> None:
    person(svc)
    text = Texter(web, PHONE)
    text(f"EMAIL {VICTIM}")
    assert mailed_to(fake_smtp, VICTIM) == 1
    # The address's owner did not want this: one click on the link's unsubscribe.
    assert email_consent.unsubscribe(svc.store, VICTIM, datetime.now(UTC))
    reply = text(f"EMAIL {VICTIM}")
    assert reply is not None and "asked us not to email" in reply
    stored = svc.store.find(PHONE)
    assert stored is not None and stored.email_status == "unsubscribed"
    assert mailed_to(fake_smtp, VICTIM) == 1


def test_one_confirmation_per_address_however_often_it_is_texted(
        svc: Services, web: WebhookClient, fake_smtp: FakeSmtp) -> None:
    person(svc)
    text = Texter(web, PHONE)
    replies = [text(f"EMAIL {VICTIM}") for _ in range(25)]
    assert mailed_to(fake_smtp, VICTIM) == 1
    assert any(r is not None and "check" in r.lower() for r in replies[1:])
    # Another number may not start the address's clock again, even once it is free.
    text("EMAIL someone.else@example.org")
    person(svc, OTHER_PHONE)
    Texter(web, OTHER_PHONE)(f"EMAIL {VICTIM}")
    assert mailed_to(fake_smtp, VICTIM) == 1


def test_a_number_can_change_its_address_only_a_few_times_a_day(
        svc: Services, web: WebhookClient, fake_smtp: FakeSmtp) -> None:
    sub = person(svc)
    text = Texter(web, PHONE)
    for n in range(25):
        text(f"EMAIL v{n}@example.org")
    cap = email_consent.EMAIL_CHANGES_PER_DAY
    assert len(fake_smtp.messages) == cap
    stored = svc.store.get(sub.id)
    assert stored is not None and stored.email == f"v{cap - 1}@example.org"
    reply = text("EMAIL late@example.org")
    assert reply is None or "tomorrow" in reply  # the reply itself may be rate-limited
    assert len(fake_smtp.messages) == cap

