"""Plus and dot variants of one inbox count as one address for the confirmation limit: at most
one confirmation email a day to an inbox (email_consent.CONFIRMATION_WINDOW_SECONDS), whatever
variant, and whichever number, asks. What counts is what reached the SMTP server.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from reminders.app.people import email_consent
from reminders.app.people.preferences import Enrolment, enrol
from reminders.domain.validation import inbox_of
from reminders.wiring import Services
from testing.smtp import FakeSmtp
from testing.twilio_api import DEFAULT_AUTH_TOKEN
from tests.app.people.test_email_consent import Texter
from tests.conftest import make_services
from tests.webhook_client import WebhookClient, serve

NUMBERS = [f"+1312555018{n}" for n in range(6)]


@pytest.fixture
def svc(plain_email_env: dict[str, str]) -> Services:
    services = make_services(plain_email_env)
    for phone in NUMBERS:
        enrol(services.store, services.settings, Enrolment(
            phone=phone, timezone="America/Chicago", time="20:00", confirmed=True))
    return services


@pytest.fixture
def web(svc: Services) -> Iterator[WebhookClient]:
    with serve(svc) as base:
        yield WebhookClient(base, svc.settings.public_url, DEFAULT_AUTH_TOKEN)


def test_one_confirmation_a_day_to_one_gmail_inbox_whatever_the_variant(
        svc: Services, web: WebhookClient, fake_smtp: FakeSmtp) -> None:
    assert email_consent.CONFIRMATION_WINDOW_SECONDS == 24 * 3600
    variants = ["ab@gmail.com", "a.b+x@gmail.com", "A.B@googlemail.com", "a.b@GMAIL.com",
                "ab+feet@gmail.com", "a..b+1+2@gmail.com"]
    replies = [Texter(web, phone)(f"EMAIL {address}") for phone, address in zip(
        NUMBERS, variants, strict=True)]
    fake_smtp.wait_for(1)
    assert len(fake_smtp.messages) == 1
    assert fake_smtp.messages[0].rcpt_tos == ["ab@gmail.com"]
    assert all(r is not None and "at most one a day" in r for r in replies[1:]), replies


def test_plus_variants_elsewhere_are_one_inbox_and_dots_elsewhere_are_not(
        svc: Services, web: WebhookClient, fake_smtp: FakeSmtp) -> None:
    for phone, address in zip(NUMBERS, ["ana@example.org", "ana+feet@example.org",
                                        "a.na@example.org"], strict=False):
        Texter(web, phone)(f"EMAIL {address}")
    fake_smtp.wait_for(2)
    assert sorted(m.rcpt_tos[0] for m in fake_smtp.messages) == [
        "a.na@example.org", "ana@example.org"]


@pytest.mark.parametrize("address,inbox", [
    ("A.B+x@Gmail.com", "ab@gmail.com"), ("ab@googlemail.com", "ab@gmail.com"),
    ("Ana.Lima+feet@Example.org", "ana.lima@example.org"), ("+x@example.org", "+x@example.org"),
])
def test_inbox_of(address: str, inbox: str) -> None:
    assert inbox_of(address) == inbox
