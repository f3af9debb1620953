"""Webhooks from outside: replays, foreign accounts and senders, every Twilio signing scheme.

Each refused request must leave the whole Redis database as it was (tests/snapshot.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import requests
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict

from reminders.app.people.preferences import Enrolment, enrol
from reminders.domain.subscriber import Subscriber
from reminders.wiring import Services
from testing.twilio_api import (
    DEFAULT_ACCOUNT_SID,
    DEFAULT_AUTH_TOKEN,
    FakeTwilio,
    signed_webhook,
)
from tests.conftest import Cli, make_services
from tests.snapshot import differences, snapshot
from tests.webhook_client import OUR_NUMBER, WebhookClient, new_sid, serve

PHONE = "+13125550142"
STRANGER = "+13125550199"
KEY_ID, KEY_SECRET = "HKwebhooks0sharedkey1", "shared-key-secret"


@pytest.fixture
def app_answers(twilio_env: dict[str, str]) -> Iterator[tuple[WebhookClient, Services]]:
    svc = make_services({**twilio_env, "OPT_OUT_HANDLED_BY": "app"})
    with serve(svc) as base:
        yield WebhookClient(base, svc.settings.public_url, DEFAULT_AUTH_TOKEN), svc


@pytest.fixture
def web(app_answers: tuple[WebhookClient, Services]) -> WebhookClient:
    return app_answers[0]


@pytest.fixture
def svc(app_answers: tuple[WebhookClient, Services]) -> Services:
    return app_answers[1]


def subscribe(svc: Services) -> Subscriber:
    return enrol(svc.store, svc.settings, Enrolment(phone=PHONE, timezone="America/Chicago",
                                                    time="20:00", confirmed=True))


def status_of(svc: Services, phone: str = PHONE) -> str | None:
    sub = svc.store.find(phone)
    return sub.sms_status if sub else None


# -- replays ---------------------------------------------------------------------------------
def test_a_replayed_text_changes_nothing_and_gets_the_first_reply(web: WebhookClient,
                                                                  svc: Services) -> None:
    start = web.inbound_params(STRANGER, "START")
    first = web.post("/sms/inbound", start)
    assert first.status_code == 200 and "<Message>" in first.text, first.text
    assert web.text(STRANGER, "STOP").status_code == 200
    assert status_of(svc, STRANGER) == "opted_out"
    before = snapshot(svc.redis)
    again = web.post("/sms/inbound", start)  # the very same signed request: Twilio's retry
    assert (again.status_code, again.text) == (200, first.text)
    assert differences(before, snapshot(svc.redis)) == []
    assert status_of(svc, STRANGER) == "opted_out"


def test_a_replayed_stop_does_not_undo_a_later_start(web: WebhookClient, svc: Services) -> None:
    subscribe(svc)
    stop = web.inbound_params(PHONE, "STOP")
    first = web.post("/sms/inbound", stop)
    assert "<Message>" in first.text
    assert web.text(PHONE, "START").status_code == 200
    before = snapshot(svc.redis)
    again = web.post("/sms/inbound", stop)
    assert (again.status_code, again.text) == (200, first.text)
    assert differences(before, snapshot(svc.redis)) == []
    assert status_of(svc) == "active"


def test_a_replayed_status_callback_changes_nothing(web: WebhookClient, svc: Services,
                                                    fake_twilio: FakeTwilio) -> None:
    sub = subscribe(svc)
    day = datetime.now(UTC).astimezone(ZoneInfo(sub.timezone)).date()
    svc.sender.deliver(sub.id, day, datetime.now(UTC), ignore_late=True)
    [message] = fake_twilio.messages
    failed = {"MessageSid": message.sid, "MessageStatus": "failed", "ErrorCode": "21610",
              "AccountSid": DEFAULT_ACCOUNT_SID, "To": PHONE, "From": OUR_NUMBER}
    assert web.post("/sms/status", failed).status_code == 204
    assert status_of(svc) == "opted_out"
    web.text(PHONE, "START")
    assert status_of(svc) == "active"
    before = snapshot(svc.redis)
    assert web.post("/sms/status", failed).status_code == 204
    assert differences(before, snapshot(svc.redis)) == []
    assert status_of(svc) == "active"


def test_the_memory_of_handled_webhooks_is_bounded_and_expires(web: WebhookClient,
                                                                svc: Services) -> None:
    from reminders.storage import keys, replay

    subscribe(svc)
    for _ in range(replay.INBOUND_MAX_PER_NUMBER + 5):
        assert web.text(PHONE, "hello").status_code == 200
    memory = keys.inbound_seen(PHONE)
    assert 0 < svc.redis.hlen(memory) <= replay.INBOUND_MAX_PER_NUMBER
    assert 0 < svc.redis.ttl(memory) <= replay.INBOUND_TTL_SECONDS
    sid = new_sid()
    web.post("/sms/status", {"MessageSid": sid, "MessageStatus": "sent",
                             "AccountSid": DEFAULT_ACCOUNT_SID})
    assert svc.redis.exists(keys.status_seen(sid)) == 0  # not our message: nothing kept


def test_forget_erases_the_remembered_replies(web: WebhookClient, svc: Services,
                                             twilio_env: dict[str, str]) -> None:
    from reminders.storage import keys

    subscribe(svc)
    assert "me@example.org" in web.text(PHONE, "EMAIL me@example.org").text
    assert svc.redis.exists(keys.inbound_seen(PHONE))
    assert Cli(twilio_env)("forget", PHONE).returncode == 0
    assert not svc.redis.exists(keys.inbound_seen(PHONE))


# -- who may send ----------------------------------------------------------------------------
@pytest.mark.parametrize("sender", ["whatsapp:+13125550199", "tel:+13125550199",
                                    "+13125550199;ext=12", "3125550199", "+1 312 555 0199",
                                    "+13125550199 ", "messenger:1234567890"])
def test_only_e164_numbers_may_text_us(web: WebhookClient, svc: Services, sender: str) -> None:
    before = snapshot(svc.redis)
    response = web.text(sender, "JOIN")
    assert response.status_code == 400, response.text
    assert differences(before, snapshot(svc.redis)) == []
    assert svc.store.find(STRANGER) is None


@pytest.mark.parametrize("field,value", [("AccountSid", "AC" + "f" * 32), ("AccountSid", ""),
                                         ("To", "+15005550001"), ("To", "")])
def test_another_account_or_number_is_refused(web: WebhookClient, svc: Services, field: str,
                                              value: str) -> None:
    subscribe(svc)
    before = snapshot(svc.redis)
    response = web.text(PHONE, "STOP", **{field: value})
    assert response.status_code in ((403,) if value else (400, 403)), response.text
    status = web.post("/sms/status", {"MessageSid": new_sid(), "MessageStatus": "failed",
                                      "ErrorCode": "21610", "AccountSid": "AC" + "f" * 32})
    assert status.status_code == 403
    assert differences(before, snapshot(svc.redis)) == []
    assert status_of(svc) == "active"


def test_with_a_messaging_service_any_to_is_ours_but_not_any_account(
    twilio_env: dict[str, str]
) -> None:
    env = {k: v for k, v in twilio_env.items() if k != "TWILIO_FROM_NUMBER"}
    svc = make_services({**env, "TWILIO_MESSAGING_SERVICE_SID": "MG" + "1" * 32})
    subscribe(svc)
    with serve(svc) as base:
        web = WebhookClient(base, svc.settings.public_url, DEFAULT_AUTH_TOKEN)
        assert web.text(PHONE, "STOP", AccountSid="AC" + "f" * 32).status_code == 403
        assert status_of(svc) == "active"
        assert web.text(PHONE, "STOP", To="+15005550001").status_code == 200
    assert status_of(svc) == "opted_out"


# -- signing schemes -------------------------------------------------------------------------
def test_a_json_body_is_verified_by_its_body_hash(web: WebhookClient, svc: Services) -> None:
    subscribe(svc)
    helped = web.inbound_params(PHONE, "HELP")
    url, data, headers = signed_webhook(web.public_url + "/sms/inbound", helped,
                                        DEFAULT_AUTH_TOKEN, as_json=True)
    query = url.partition("?")[2]
    before = snapshot(svc.redis)
    tampered = json.dumps({**helped, "Body": "STOP"}).encode()
    for body, target in ((tampered, f"/sms/inbound?{query}"),  # body changed, hash kept
                         (data, "/sms/inbound")):  # the hash taken off the signed URL
        response = requests.post(web.base_url + target, data=body, headers=headers, timeout=10)
        assert response.status_code == 403, (target, response.text)
    assert differences(before, snapshot(svc.redis)) == []
    response = web.post("/sms/inbound", web.inbound_params(PHONE, "STOP"), as_json=True)
    assert response.status_code == 200, response.text
    assert status_of(svc) == "opted_out"


def test_a_form_body_cannot_ride_on_a_url_only_signature(web: WebhookClient,
                                                         svc: Services) -> None:
    subscribe(svc)
    params = web.inbound_params(PHONE, "STOP")
    signature = RequestValidator(DEFAULT_AUTH_TOKEN).compute_signature(
        web.public_url + "/sms/inbound", {})
    response = requests.post(web.base_url + "/sms/inbound", data=params, timeout=10,
                             headers={"X-Twilio-Signature": signature})
    assert response.status_code == 403
    assert status_of(svc) == "active"


@pytest.fixture
def shared_key(twilio_env: dict[str, str]) -> Iterator[tuple[str, Services]]:
    svc = make_services({**twilio_env, "OPT_OUT_HANDLED_BY": "app",
                         "TWILIO_WEBHOOK_SHARED_KEYS": f"{KEY_ID}={KEY_SECRET}"})
    with serve(svc) as base:
        yield base, svc


@pytest.mark.parametrize("algorithm", ["HMAC_SHA256", "HMAC_SHA1"])
@pytest.mark.parametrize("as_json", [False, True])
def test_a_shared_key_signature_is_accepted(shared_key: tuple[str, Services], algorithm: str,
                                            as_json: bool) -> None:
    base, svc = shared_key
    subscribe(svc)
    web = WebhookClient(base, svc.settings.public_url, KEY_SECRET)
    response = web.post("/sms/inbound", web.inbound_params(PHONE, "STOP"), as_json=as_json,
                        signing_key_id=KEY_ID, algorithm=algorithm)
    assert response.status_code == 200, response.text
    assert status_of(svc) == "opted_out"


@pytest.mark.parametrize("secret,key_id,algorithm", [
    ("another-secret", KEY_ID, "HMAC_SHA256"),  # wrong secret
    (KEY_SECRET, "HKsomeotherkey", "HMAC_SHA256"),  # a key we were never given
    (DEFAULT_AUTH_TOKEN, KEY_ID, "HMAC_SHA256"),  # the auth token where a key is named
    (KEY_SECRET, KEY_ID, "HMAC_MD5"),  # an algorithm nobody supports
])
def test_a_wrong_shared_key_signature_is_refused(shared_key: tuple[str, Services], secret: str,
                                                 key_id: str, algorithm: str) -> None:
    base, svc = shared_key
    subscribe(svc)
    before = snapshot(svc.redis)
    web = WebhookClient(base, svc.settings.public_url, secret)
    params = web.inbound_params(PHONE, "STOP")
    if algorithm == "HMAC_MD5":  # RequestValidator cannot even compute it: sign with SHA-256
        _, data, headers = signed_webhook(web.public_url + "/sms/inbound", params, secret,
                                          signing_key_id=key_id, algorithm="HMAC_SHA256")
        headers["X-Twilio-Webhooks-Signature-Settings"] = f"key={key_id},algorithm=HMAC_MD5"
        response = requests.post(base + "/sms/inbound", data=data, headers=headers, timeout=10)
    else:
        response = web.post("/sms/inbound", params, signing_key_id=key_id, algorithm=algorithm)
    assert response.status_code == 403, response.text
    assert differences(before, snapshot(svc.redis)) == []


@pytest.mark.parametrize("public_url,signed_url", [
    ("https://reminders.example.org", "https://reminders.example.org:443"),
    ("https://reminders.example.org:443", "https://reminders.example.org"),
    ("https://reminders.example.org:8443", "https://reminders.example.org:8443"),
    ("http://reminders.example.org", "http://reminders.example.org:80"),
])
@pytest.mark.parametrize("as_json", [False, True])
def test_signatures_with_and_without_the_port(twilio_env: dict[str, str], public_url: str,
                                              signed_url: str, as_json: bool) -> None:
    svc = make_services({**twilio_env, "PUBLIC_URL": public_url})
    subscribe(svc)
    with serve(svc) as base:
        web = WebhookClient(base, public_url, DEFAULT_AUTH_TOKEN)
        response = web.post("/sms/inbound", web.inbound_params(PHONE, "STOP"), as_json=as_json,
                            sign_url=signed_url + "/sms/inbound")
        assert response.status_code == 200, response.text
    assert status_of(svc) == "opted_out"


# -- malformed -------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/sms/inbound", "/sms/status"])
@pytest.mark.parametrize("signed", [True, False])
def test_a_repeated_field_is_a_400_or_403_never_a_500(web: WebhookClient, svc: Services,
                                                      path: str, signed: bool) -> None:
    subscribe(svc)
    fields = MultiDict(web.inbound_params(PHONE, "STOP"))
    fields.add("From", STRANGER)
    fields.add("MessageStatus", "failed")
    fields.add("MessageStatus", "delivered")
    signature = RequestValidator(DEFAULT_AUTH_TOKEN).compute_signature(
        web.public_url + path, fields) if signed else "forged"
    before = snapshot(svc.redis)
    response = requests.post(web.base_url + path, data=list(fields.items(multi=True)),
                             headers={"X-Twilio-Signature": signature}, timeout=10)
    assert response.status_code == (400 if signed else 403), response.text
    assert differences(before, snapshot(svc.redis)) == []


@pytest.mark.parametrize("query", ["bodySHA256", "bodySHA256=", "bodySHA256=zz", "bodySHA256=%ff"])
@pytest.mark.parametrize("body", [b"\xff\xfe", b'{"Body": "START"}', b"From=x"])
def test_a_body_hash_that_is_not_one_is_refused_not_a_500(
        web: WebhookClient, svc: Services, query: str, body: bytes) -> None:
    before = snapshot(svc.redis)
    for headers in ({"X-Twilio-Signature": "abc"},
                    {"X-Twilio-Signature": "abc",
                     "X-Twilio-Webhooks-Signature-Settings": "algorithm=HMAC_SHA256"}):
        answer = requests.post(f"{web.base_url}/sms/inbound?{query}", data=body, timeout=10,
                               headers={**headers, "Content-Type": "application/json"})
        assert answer.status_code == 403 and "Traceback" not in answer.text
    assert not differences(before, snapshot(svc.redis))
