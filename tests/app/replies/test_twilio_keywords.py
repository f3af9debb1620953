"""With OPT_OUT_HANDLED_BY=twilio (the default) Twilio answers its own single-word keywords;
we answer everything else, so nobody gets two answers or none.

The person's phone is modelled end to end: texts go through Twilio's keyword handling
(testing/twilio_keywords.py: its auto-replies, and 21610 for our messages after a STOP until
START) to the real web app, and every reply they receive is counted.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from reminders.app.people.preferences import Enrolment, enrol
from reminders.channels.base import DeliveryError
from reminders.wiring import Services
from testing.twilio_api import FakeTwilio
from testing.twilio_keywords import HELP_REPLY, OPT_OUT_REPLY, Carrier
from tests.conftest import make_services
from tests.webhook_client import WebhookClient, serve

PHONE = "+13125550142"


def _carrier(svc: Services, fake: FakeTwilio) -> Iterator[Carrier]:
    with serve(svc) as base:
        client = WebhookClient(base, svc.settings.public_url, svc.settings.twilio_auth_token)

        def webhook(phone: str, body: str) -> tuple[int, str]:
            response = client.text(phone, body)
            return response.status_code, response.text

        yield Carrier(fake, webhook)


@pytest.fixture(params=["twilio", "app"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _person(twilio_env: dict[str, str], fake_twilio: FakeTwilio, mode: str
            ) -> Iterator[tuple[Services, Carrier]]:
    svc = make_services({**twilio_env, "OPT_OUT_HANDLED_BY": mode})
    enrol(svc.store, svc.settings, Enrolment(phone=PHONE, timezone="America/Chicago",
                                             time="20:00", confirmed=True))
    yield from ((svc, carrier) for carrier in _carrier(svc, fake_twilio))


@pytest.fixture
def phone(twilio_env: dict[str, str], fake_twilio: FakeTwilio, mode: str
          ) -> Iterator[tuple[Services, Carrier]]:
    yield from _person(twilio_env, fake_twilio, mode)


@pytest.fixture
def twilio_mode_phone(twilio_env: dict[str, str], fake_twilio: FakeTwilio
                      ) -> Iterator[tuple[Services, Carrier]]:
    yield from _person(twilio_env, fake_twilio, "twilio")


def _answers(carrier: Carrier, body: str, mode: str) -> list[str]:
    replies = carrier.text(PHONE, body)
    if mode == "app":
        # With OPT_OUT_HANDLED_BY=app the operator turned Twilio's keyword handling off:
        # only our replies reach the person.
        replies = [r for r in replies if r not in (OPT_OUT_REPLY, HELP_REPLY)
                   and not r.startswith("You have successfully")]
    return replies


@pytest.mark.parametrize("body", ["STOP", "stop", " Stop ", "UNSUBSCRIBE", "quit"])
def test_a_keyword_stop_gets_exactly_one_confirmation(phone: tuple[Services, Carrier],
                                                      mode: str, body: str) -> None:
    svc, carrier = phone
    replies = _answers(carrier, body, mode)
    assert len(replies) == 1, replies
    assert svc.store.require(PHONE).sms_status == "opted_out"


@pytest.mark.parametrize("body", ["stop please", "Please stop", "no more texts",
                                  "don't text me anymore", "STOP!!", "ALTO"])
def test_a_plain_language_stop_gets_exactly_one_confirmation(phone: tuple[Services, Carrier],
                                                             mode: str, body: str) -> None:
    svc, carrier = phone
    replies = _answers(carrier, body, mode)
    assert len(replies) == 1, replies  # ours: Twilio does not act on these
    assert "START" in replies[0] or "mensajes" in replies[0]
    assert svc.store.require(PHONE).sms_status == "opted_out"


@pytest.mark.parametrize("body", ["HELP", "info", "help me please", "AYUDA"])
def test_help_is_answered_once(phone: tuple[Services, Carrier], mode: str, body: str) -> None:
    _svc, carrier = phone
    replies = _answers(carrier, body, mode)
    assert len(replies) == 1, replies


def test_after_a_stop_twilio_blocks_our_texts_until_start(
        twilio_mode_phone: tuple[Services, Carrier], fake_twilio: FakeTwilio) -> None:
    svc, carrier = twilio_mode_phone
    carrier.text(PHONE, "STOP")
    with pytest.raises(DeliveryError, match=r"21610|unsubscribed"):
        svc.sms.send_sms(PHONE, "a text nobody should get")
    carrier.text(PHONE, "START")
    assert svc.store.require(PHONE).sms_status == "active"
    svc.sms.send_sms(PHONE, "welcome back")
    assert [m.body for m in fake_twilio.messages_to(PHONE)] == ["welcome back"]
