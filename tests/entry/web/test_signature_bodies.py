"""Which bodies a Twilio signature covers, and which signing keys we accept.

Twilio signs a form body together with the URL; for any other body it adds `bodySHA256` to the
URL and signs the URL alone. So a JSON body whose URL carries no `bodySHA256` is covered by
nothing: someone who has seen one signed URL (a log line, a proxy) could attach any JSON to it.
It must be refused like a forgery, and change nothing. A request naming a signing key we were
not given is refused too, whatever it is signed with: key rotation mistakes show up as 403s
and a log line, never as a silent fallback to the auth token.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import requests
from twilio.request_validator import RequestValidator

from reminders.app.people.preferences import Enrolment, enrol
from reminders.wiring import Services
from testing.twilio_api import DEFAULT_AUTH_TOKEN
from tests.conftest import make_services
from tests.snapshot import differences, snapshot
from tests.webhook_client import WebhookClient, serve

PHONE = "+13125550142"


@pytest.fixture
def served(twilio_env: dict[str, str]) -> Iterator[tuple[WebhookClient, Services]]:
    svc = make_services({**twilio_env, "OPT_OUT_HANDLED_BY": "app",
                         "TWILIO_WEBHOOK_SHARED_KEYS": "HKknownkey=known-secret"})
    enrol(svc.store, svc.settings, Enrolment(phone=PHONE, timezone="America/Chicago",
                                             time="20:00", confirmed=True))
    with serve(svc) as base:
        yield WebhookClient(base, svc.settings.public_url, DEFAULT_AUTH_TOKEN), svc


@pytest.mark.parametrize("content_type", ["application/json", "text/plain"])
def test_a_json_stop_riding_on_a_url_only_signature_is_refused(
        served: tuple[WebhookClient, Services], content_type: str) -> None:
    web, svc = served
    url = web.public_url + "/sms/inbound"
    # A genuine signature of the bare URL (what Twilio sends for an empty form body) ...
    signature = RequestValidator(DEFAULT_AUTH_TOKEN).compute_signature(url, {})
    # ... with a forged JSON STOP attached, and no bodySHA256 to tie the body to it.
    forged = json.dumps(web.inbound_params(PHONE, "STOP")).encode()
    before = snapshot(svc.redis)
    response = requests.post(web.base_url + "/sms/inbound", data=forged, timeout=10,
                             headers={"X-Twilio-Signature": signature,
                                      "Content-Type": content_type})
    assert response.status_code == 403, response.text
    assert differences(before, snapshot(svc.redis)) == []
    found = svc.store.find(PHONE)
    assert found is not None and found.sms_status == "active"


def test_the_same_stop_signed_the_way_twilio_signs_json_is_accepted(
        served: tuple[WebhookClient, Services]) -> None:
    web, svc = served
    response = web.post("/sms/inbound", web.inbound_params(PHONE, "STOP"), as_json=True)
    assert response.status_code == 200, response.text
    found = svc.store.find(PHONE)
    assert found is not None and found.sms_status == "opted_out"


@pytest.mark.parametrize("as_json", [False, True])
def test_a_signing_key_we_were_not_given_is_refused_even_with_the_auth_token(
        served: tuple[WebhookClient, Services], as_json: bool,
        caplog: pytest.LogCaptureFixture) -> None:
    web, svc = served
    before = snapshot(svc.redis)
    # Signed with the account's auth token, but naming a key: the key decides, and we do not
    # know this one.
    response = web.post("/sms/inbound", web.inbound_params(PHONE, "STOP"), as_json=as_json,
                        signing_key_id="HKunknownkey", algorithm="HMAC_SHA256")
    assert response.status_code == 403, response.text
    assert differences(before, snapshot(svc.redis)) == []
    assert "unknown shared key" in caplog.text
