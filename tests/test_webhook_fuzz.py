"""Property: no inbound body (or sender, or status) can make the webhooks answer 5xx."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from reminders.preferences import Enrolment, enrol
from reminders.services import Services
from reminders.web import create_app
from tests.fakes.twilio_api import DEFAULT_AUTH_TOKEN

PHONE = "+13125550142"


@pytest.fixture
def client(twilio_services: Services) -> Iterator[FlaskClient]:
    enrol(twilio_services.store, twilio_services.settings,
          Enrolment(phone=PHONE, confirmed=True))
    yield create_app(twilio_services).test_client()


def signed_post(client: FlaskClient, path: str, params: dict[str, str]) -> int:
    signature = RequestValidator(DEFAULT_AUTH_TOKEN).compute_signature(
        "https://reminders.example.org" + path, params)
    response = client.post(path, data=params, headers={"X-Twilio-Signature": signature})
    return response.status_code


texts = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=400)
keywordish = st.sampled_from(["STOP", "START", "YES", "HELP", "TIME ", "TZ ", "PAUSE ", "DONE",
                              "EMAIL ", "RESUME", "JOIN", "7/10", "pain "])


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(prefix=keywordish, body=texts, sender=st.one_of(st.just(PHONE), st.just("+13125550199"),
                                                       texts))
def test_no_inbound_body_yields_a_5xx(client: FlaskClient, prefix: str, body: str,
                                      sender: str) -> None:
    status = signed_post(client, "/sms/inbound", {"From": sender, "Body": prefix + body})
    assert status in (200, 400), status


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sid=texts, status=texts, code=texts)
def test_no_status_callback_yields_a_5xx(client: FlaskClient, sid: str, status: str,
                                         code: str) -> None:
    result = signed_post(client, "/sms/status", {"MessageSid": sid, "MessageStatus": status,
                                                 "ErrorCode": code})
    assert result in (204, 400), result
