"""A captured START cannot undo a STOP: not spliced into a new MessageSid, not a month later.

Twilio's signature runs names and values together, so a replay can move the boundary between
two fields and keep a valid signature. Everything goes through the signed webhook on a real
server; the captured request is replayed byte for byte with its original signature.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
from twilio.request_validator import RequestValidator

from reminders.app.people.preferences import Enrolment, enrol
from reminders.wiring import Services
from testing.twilio_api import DEFAULT_AUTH_TOKEN
from tests.webhook_client import WebhookClient, new_sid, serve

PHONE = "+13125550170"
MONTH = 30 * 24 * 3600


@pytest.fixture
def web(twilio_services: Services) -> Iterator[WebhookClient]:
    enrol(twilio_services.store, twilio_services.settings, Enrolment(
        phone=PHONE, timezone="America/Chicago", time="20:00", confirmed=True))
    with serve(twilio_services) as base:
        yield WebhookClient(base, twilio_services.settings.public_url, DEFAULT_AUTH_TOKEN)


def status(svc: Services) -> str:
    return svc.store.require(PHONE).sms_status


def captured_start_then_stop(web: WebhookClient, svc: Services) -> dict[str, str]:
    """The person texts STOP, START, then STOP again; returns the START as it was signed."""
    assert web.text(PHONE, "STOP").status_code == 200
    start = web.inbound_params(PHONE, "START")
    assert web.post("/sms/inbound", start).status_code == 200 and status(svc) == "active"
    assert web.text(PHONE, "STOP").status_code == 200 and status(svc) == "opted_out"
    return start


def signature_of(web: WebhookClient, params: dict[str, str]) -> str:
    return RequestValidator(DEFAULT_AUTH_TOKEN).compute_signature(
        web.public_url + "/sms/inbound", params)


def spliced(start: dict[str, str], into: str, taking: str) -> dict[str, str]:
    """`into`'s value swallows the name and value of `taking` (the next field by name)."""
    forged = {k: v for k, v in start.items() if k != taking}
    forged[into] = start[into] + taking + start[taking]
    return forged


@pytest.mark.parametrize("forge", [
    lambda start: spliced(start, "MessageSid", "NumMedia"),
    # A name that moves the boundary: "MessageSidS" = "M…", the SID shifted by one letter.
    lambda start: {**{k: v for k, v in start.items() if k != "MessageSid"},
                   "MessageSidS": start["MessageSid"][1:]},
])
def test_a_spliced_start_is_refused_and_the_stop_holds(
        web: WebhookClient, twilio_services: Services, forge: object) -> None:
    start = captured_start_then_stop(web, twilio_services)
    forged = forge(start)  # type: ignore[operator]
    # The signature Twilio gave the real START still verifies for the forged parameters.
    assert signature_of(web, forged) == signature_of(web, start)
    response = web.post("/sms/inbound", forged, signature=signature_of(web, start))
    assert response.status_code == 400
    assert status(twilio_services) == "opted_out"


@pytest.mark.parametrize("extra", [
    {"SmsSid": new_sid()},  # a second SID that is not the message's
    {"NumMedia": "0To+13125550999"},
    {"AccountSid": "AC" + "0" * 31},
])
def test_fields_not_shaped_as_twilio_sends_them_are_refused(
        web: WebhookClient, twilio_services: Services, extra: dict[str, str]) -> None:
    web.text(PHONE, "STOP")
    response = web.text(PHONE, "START", **extra)
    assert response.status_code == 400 and status(twilio_services) == "opted_out"


@pytest.mark.parametrize("sid", ["SM123", "SM" + "A" * 32, "XX" + "a" * 32, "SM" + "a" * 33])
def test_only_well_formed_message_sids_are_accepted(
        web: WebhookClient, twilio_services: Services, sid: str) -> None:
    web.text(PHONE, "STOP")
    assert web.text(PHONE, "START", sid=sid).status_code == 400
    assert status(twilio_services) == "opted_out"
    assert web.text(PHONE, "START", sid="MM" + "a" * 32).status_code == 200  # MMS SIDs too
    assert status(twilio_services) == "active"


def test_a_plain_replay_a_month_later_changes_nothing(
        web: WebhookClient, twilio_services: Services, redis_client: redis.Redis) -> None:
    start = captured_start_then_stop(web, twilio_services)
    # A month passes: every key that would have expired by then is gone.
    for key in redis_client.scan_iter():
        if 0 <= redis_client.ttl(key) <= MONTH:
            redis_client.delete(key)
    response = web.post("/sms/inbound", start)
    assert response.status_code == 200
    assert status(twilio_services) == "opted_out"
    # The person's own new START still works.
    assert web.text(PHONE, "START").status_code == 200 and status(twilio_services) == "active"


def test_the_long_memory_is_bounded_per_number_and_names_no_number(
        web: WebhookClient, twilio_services: Services, redis_client: redis.Redis) -> None:
    for n in range(130):
        assert web.text(PHONE, "STOP" if n % 2 else "START").status_code == 200
    long_kept = [key for key in redis_client.scan_iter(b"*seen:consent:*")]
    assert len(long_kept) == 1 and PHONE.encode() not in long_kept[0]
    assert PHONE[1:].encode() not in long_kept[0]
    assert redis_client.zcard(long_kept[0]) == 100
    assert redis_client.ttl(long_kept[0]) > 300 * 24 * 3600
