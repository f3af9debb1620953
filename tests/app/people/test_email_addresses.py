"""Addresses that could smuggle a second recipient into a header are refused where they come in.

An RFC 2047 encoded-word (`=?utf-8?q?a=40evil.example=2C_b?=@y.org`) is decoded by mail
software into `a@evil.example, b@y.org`: two addresses in the To header. A CR or LF could start a
header of its own. What counts is what reached the SMTP server, the CLI's output and the reply.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from reminders.app.people.preferences import Enrolment, enrol
from reminders.domain.validation import InvalidInput, normalise_email
from reminders.wiring import Services
from testing.smtp import FakeSmtp
from testing.twilio_api import DEFAULT_AUTH_TOKEN
from tests.app.people.test_email_consent import Texter
from tests.conftest import Cli, make_services
from tests.webhook_client import WebhookClient, serve

PHONE = "+13125550170"
ENCODED = [
    "=?utf-8?q?a=40evil.example=2C_b?=@y.org",
    "=?UTF-8?B?YUBldmlsLmV4YW1wbGUsYg==?=@y.org",
    "x=?utf-8?q?a=40evil.example?=@y.org",
]
LINE_BREAKS = ["ana@example.org\r\nBcc: b@evil.example", "ana@example.org\nx",
               "ana\r@example.org", "ana@exa\nmple.org"]


@pytest.fixture
def svc(plain_email_env: dict[str, str]) -> Services:
    return make_services(plain_email_env)


@pytest.mark.parametrize("address", ENCODED + LINE_BREAKS)
def test_validation_refuses_encoded_words_and_line_breaks(address: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        normalise_email(address)
    assert "\n" not in str(refused.value) and "\r" not in str(refused.value)


@pytest.mark.parametrize("address", ENCODED + LINE_BREAKS)
def test_the_cli_refuses_with_one_line_and_mails_nothing(
        plain_email_env: dict[str, str], svc: Services, fake_smtp: FakeSmtp,
        address: str) -> None:
    result = Cli(plain_email_env)("subscribe", "--email", address,
                                  "--timezone", "America/Chicago", "--time", "20:00")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "email" in lines[0].lower()
    assert fake_smtp.messages == []


@pytest.fixture
def web(svc: Services) -> Iterator[WebhookClient]:
    with serve(svc) as base:
        yield WebhookClient(base, svc.settings.public_url, DEFAULT_AUTH_TOKEN)


@pytest.mark.parametrize("address", ENCODED)
def test_an_encoded_word_texted_gets_a_helpful_reply_and_no_email(
        svc: Services, web: WebhookClient, fake_smtp: FakeSmtp, address: str) -> None:
    enrol(svc.store, svc.settings, Enrolment(phone=PHONE, timezone="America/Chicago",
                                             time="20:00", confirmed=True))
    reply = Texter(web, PHONE)(f"EMAIL {address}")
    assert reply is not None and "email address" in reply and "EMAIL you@example.com" in reply
    stored = svc.store.find(PHONE)
    assert stored is not None and stored.email is None
    assert fake_smtp.messages == []


def test_a_plain_address_still_reaches_one_recipient(
        svc: Services, web: WebhookClient, fake_smtp: FakeSmtp) -> None:
    enrol(svc.store, svc.settings, Enrolment(phone=PHONE, timezone="America/Chicago",
                                             time="20:00", confirmed=True))
    Texter(web, PHONE)("EMAIL Ana.Lima+feet=1@Example.org")
    [received] = fake_smtp.wait_for(1)
    assert received.rcpt_tos == ["Ana.Lima+feet=1@example.org"]
    [to_line] = [line for line in received.raw.split(b"\n") if line.startswith(b"To:")]
    assert to_line.strip() == b"To: Ana.Lima+feet=1@example.org"
