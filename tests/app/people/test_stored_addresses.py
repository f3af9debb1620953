"""Addresses kept from before today's checks are checked again where they are used to send, and
confirmation emails that operators send count toward the inbox's one a day.

An address stored before encoded-words and CR/LF were refused (written here straight into the
record, as an older version left it) would put a second recipient in the To header, or break
the message: nothing is sent to it, the evening's email is recorded failed, and the address
is treated as a hard bounce. What counts is what reached the SMTP server.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime

import pytest

from reminders.app.people.preferences import Enrolment, enrol
from reminders.storage import keys, nights
from reminders.wiring import Services
from testing.smtp import FakeSmtp
from testing.twilio_api import DEFAULT_AUTH_TOKEN
from tests.app.people.test_email_consent import Texter
from tests.conftest import Cli, make_services
from tests.webhook_client import WebhookClient, serve

EVENING = date(2027, 1, 12)
BAD = ["=?utf-8?q?a=40evil.example=2C?=b@example.org", "ana@example.org\r\nBcc: c@evil.example",
       "ana@example.org, c@evil.example"]


@pytest.fixture
def svc(plain_email_env: dict[str, str]) -> Services:
    return make_services(plain_email_env)


def stored_as(svc: Services, address: str, status: str) -> str:
    sub = enrol(svc.store, svc.settings, Enrolment(email="ana@example.org", channel="email",
                                                  confirmed=status == "active", time="20:00"))
    svc.redis.hset(keys.subscriber(sub.id), "email", address)  # as an older version kept it
    return sub.id


@pytest.mark.parametrize("address", BAD)
def test_tonights_email_is_not_sent_to_a_stored_address_that_fails_todays_checks(
        svc: Services, fake_smtp: FakeSmtp, address: str) -> None:
    sub_id = stored_as(svc, address, "active")
    outcome = svc.sender.deliver(sub_id, EVENING, datetime.now(UTC), ignore_late=True)
    assert outcome.channels == {"email": "failed"}
    time.sleep(0.3)  # anything that was going to reach the server has
    assert fake_smtp.messages == []
    night = nights.read(svc.redis, sub_id, EVENING)
    assert night["email"] == "failed" and night["email_error"] == "invalid_address", night
    after = svc.store.get(sub_id)
    assert after is not None and after.email_status == "bouncing"


@pytest.mark.parametrize("address", BAD)
def test_no_confirmation_goes_to_a_stored_address_that_fails_todays_checks(
        svc: Services, fake_smtp: FakeSmtp, address: str) -> None:
    sub_id = stored_as(svc, address, "pending")
    sub = svc.store.get(sub_id)
    assert sub is not None
    asked = svc.confirmations.mail(sub)
    assert not asked and "could not be sent" in asked.problem
    time.sleep(0.3)
    assert fake_smtp.messages == []


def test_an_operators_confirmation_counts_toward_the_inboxs_one_a_day(
        svc: Services, plain_email_env: dict[str, str], fake_smtp: FakeSmtp) -> None:
    cli = Cli(plain_email_env)
    first = cli("subscribe", "--email", "ana.lima@gmail.com", "--time", "20:00")
    assert first.returncode == 0, first.stderr
    fake_smtp.wait_for(1)
    # The same inbox by another spelling, by an operator: not mailed again today.
    enrol(svc.store, svc.settings, Enrolment(phone="+13125550190", timezone="America/Chicago",
                                             time="20:00", confirmed=True))
    second = cli("set", "+13125550190", "email=analima+feet@gmail.com")
    assert second.returncode == 0, second.stderr
    assert "in the last 24 hours" in second.stdout + second.stderr
    # ... nor by the person's own text.
    with serve(svc) as base:
        web = WebhookClient(base, svc.settings.public_url, DEFAULT_AUTH_TOKEN)
        enrol(svc.store, svc.settings, Enrolment(phone="+13125550191", confirmed=True,
                                                 timezone="America/Chicago", time="20:00"))
        reply = Texter(web, "+13125550191")("EMAIL a.n.a.lima@googlemail.com")
    assert reply is not None and "at most one a day" in reply, reply
    time.sleep(0.3)
    assert [m.rcpt_tos for m in fake_smtp.messages] == [["ana.lima@gmail.com"]]


def test_a_confirmation_that_could_not_be_sent_does_not_use_up_the_day(
        svc: Services, fake_smtp: FakeSmtp) -> None:
    sub = enrol(svc.store, svc.settings, Enrolment(email="bo@example.org", channel="email",
                                                  time="20:00"))
    fake_smtp.handler.faults.append("451 4.3.0 Try again later")
    assert not svc.confirmations.mail(sub)
    assert svc.confirmations.mail(sub)
    assert [m.rcpt_tos for m in fake_smtp.wait_for(1)] == [["bo@example.org"]]
