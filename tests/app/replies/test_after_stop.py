"""What an opted-out person's texts do (docs/text-commands.md, "After STOP").

After STOP nothing is texted to the person but the answer to their own START or HELP, with one
exception people's safety asks for: a text about an emergency, a crisis or a foot problem still
gets its one safety answer (call 911 / 988 / urgent care / your doctor today; Twilio delivers it
only if the number has not opted out with Twilio itself), goes into the inbox for a person to
read, and a foot problem still opens its flag (the clinic should hear of it even after a STOP:
the triage's rule, app/care/foot_problems.py). Their caregiver hears nothing: STOP ends caregiver
texts about them. Anything else gets no answer and changes nothing. Asserted at the wire (the fake
Twilio API), on the record and in the inbox.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from reminders.storage import inbox
from reminders.wiring import Services
from testing.twilio_api import FakeTwilio
from tests.app.replies.test_inbound_triage import CAREGIVER, PERSON, caregiver_ready, enrolled
from tests.conftest import Cli, make_services
from tests.webhook_client import WebhookClient, answering_here, said


@pytest.fixture
def svc(twilio_env: dict[str, str]) -> Services:
    services = make_services(twilio_env)
    services.care_handoff = None  # no worker here: an alert would be sent where it was heard
    return services


@pytest.fixture
def web(svc: Services) -> Iterator[WebhookClient]:
    with answering_here(svc) as client:
        yield client


@pytest.mark.parametrize("text,answer,flag", [
    ("my big toe turned black", "urgent care or the ER", True),
    ("there's a blister on my heel that is oozing", "doctor", True),
    ("I have chest pain and my arm is numb", "911", False),
    ("I want to end it all", "988", False),
])
def test_after_stop_a_safety_text_is_answered_and_kept_and_the_caregiver_hears_nothing(
        svc: Services, web: WebhookClient, twilio_cli: Cli, fake_twilio: FakeTwilio,
        text: str, answer: str, flag: bool) -> None:
    enrolled(svc)
    caregiver_ready(svc, web, twilio_cli)
    web.text(PERSON, "STOP")
    sent_to_caregiver = [m.body for m in fake_twilio.messages if m.to == CAREGIVER]
    kept = len(inbox.read(svc.redis, 1000))
    reply = said(web.text(PERSON, text))
    assert answer in reply, reply
    sub = svc.store.require(PERSON)
    assert sub.sms_status == "opted_out" and (sub.flag_until is not None) == flag
    assert [m.body for m in fake_twilio.messages if m.to == CAREGIVER] == sent_to_caregiver
    items = inbox.read(svc.redis, 1000)
    assert len(items) == kept + 1 and items[0][1].text == text


def test_after_stop_anything_else_gets_no_answer(svc: Services, web: WebhookClient) -> None:
    enrolled(svc)
    web.text(PERSON, "STOP")
    for text in ("hello?", "DONE", "8", "TIME 9pm", "no blisters today"):
        assert said(web.text(PERSON, text)) == "", text
    assert svc.store.require(PERSON).send_time.hour == 20
