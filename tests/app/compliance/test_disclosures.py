"""What a person is told when they join, as it reaches their phone: how often (CTIA: the
frequency, "Msg&data rates may apply", HELP and STOP) and that the line is automated, not
watched by staff, with 911 for an emergency. In English and in Spanish, each through the
path that really sends it: the confirmation request (`subscribe` without --confirmed, at the
fake Twilio API), the welcome after YES and HELP (the signed webhook's TwiML).
"""

from __future__ import annotations

import re

import pytest

from reminders.wiring import Services
from testing.twilio_api import FakeTwilio
from tests.conftest import Cli, services_here
from tests.webhook_client import WebhookClient, said

PERSON = "+13125550142"
# What each language must say, in words a reader understands (written here, not taken from
# the templates): how often, the weekly summary, automated, 911, costs, help, stop.
MUST = {
    "en": (r"1 (foot-care )?text each evening", r"weekly summary", r"automated",
           r"call 911", r"msg&data rates may apply", r"\bhelp\b", r"\bstop\b"),
    "es": (r"1 mensaje .*cada noche", r"resumen semanal", r"autom[aá]tica", r"911",
           r"tarifas", r"\bayuda\b", r"\balto\b"),
}
# The welcome and HELP may leave the costs to the confirmation, not the rest.
WELCOME_MUST = {"en": MUST["en"][:4], "es": MUST["es"][:4]}


@pytest.fixture
def svc(twilio_env: dict[str, str]) -> Services:
    return services_here(twilio_env)


def lacking(patterns: tuple[str, ...], text: str) -> list[str]:
    return [p for p in patterns if not re.search(p, text, re.I)]


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_confirmation_request_says_how_often_and_that_the_line_is_automated(
        twilio_cli: Cli, fake_twilio: FakeTwilio, language: str) -> None:
    done = twilio_cli("subscribe", PERSON, "--time", "20:00", "--timezone", "America/Chicago",
                      "--language", language)
    assert done.returncode == 0, done.stderr
    [request] = fake_twilio.messages
    assert request.to == PERSON
    assert not lacking(MUST[language], request.body), (lacking(MUST[language], request.body),
                                                       request.body)


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_welcome_and_help_say_it_too(twilio_cli: Cli, web: WebhookClient,
                                         language: str) -> None:
    assert twilio_cli("subscribe", PERSON, "--time", "20:00", "--timezone",
                      "America/Chicago", "--language", language).returncode == 0
    welcome = said(web.text(PERSON, "YES" if language == "en" else "SI"))
    assert not lacking(WELCOME_MUST[language], welcome), welcome
    helped = said(web.text(PERSON, "help me please" if language == "en" else "necesito ayuda"))
    assert not lacking(WELCOME_MUST[language], helped), helped
