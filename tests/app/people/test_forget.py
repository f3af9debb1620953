"""`forget` (app/people/forget.py) leaves nothing about the person in Redis but their opt-out.

Everything reaches the service the way it does in production: texts and status callbacks
through the signed webhook over HTTP, sends through the fake Twilio API, `forget` through the
command line; what counts is what is in Redis afterwards. The webhook helpers here are shared
with tests/app/replies/test_inbound.py and tests/storage/test_nights.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import redis
import requests

from reminders.app.people import email_consent
from reminders.app.people.preferences import Enrolment, enrol
from reminders.domain.subscriber import Subscriber
from reminders.storage import keys
from reminders.wiring import Services
from testing.twilio_api import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, FakeTwilio
from tests.conftest import Cli
from tests.webhook_client import WebhookClient, serve

PHONE = "+13125550142"
ADDRESS = "Ana.Lima@example.org"
ZONE = "America/Chicago"


@pytest.fixture
def web(twilio_services: Services) -> Iterator[WebhookClient]:
    with serve(twilio_services) as base:
        yield WebhookClient(base, twilio_services.settings.public_url, DEFAULT_AUTH_TOKEN)


class Twilio:
    """Posts texts as Twilio does: a MessageSid each, the same one again on a 5xx (a retry)."""

    def __init__(self, web: WebhookClient) -> None:
        self.web, self.count, self.retries = web, 0, 0

    def text(self, phone: str, body: str) -> requests.Response:
        self.count += 1
        sid = f"SM{uuid.uuid4().hex}"  # unique across clients: a repeated SID is a replay
        for _ in range(10):
            response = self.web.text(phone, body, MessageSid=sid,
                                     AccountSid=DEFAULT_ACCOUNT_SID)
            if response.status_code < 500:
                return response
            self.retries += 1
        return response


def person(svc: Services, phone: str = PHONE) -> Subscriber:
    return enrol(svc.store, svc.settings, Enrolment(phone=phone, timezone=ZONE, time="20:00",
                                                    confirmed=True))


def history(svc: Services, web: WebhookClient, fake_twilio: FakeTwilio) -> Subscriber:
    """A person with a month's worth of data: sends, delivery statuses, DONE, scores, email."""
    sub = person(svc)
    twilio = Twilio(web)
    twilio.text(PHONE, f"EMAIL {ADDRESS}")
    assert email_consent.confirm(svc.store, ADDRESS, datetime.now(UTC)) is not None
    now = datetime.now(UTC)
    today = now.astimezone(ZoneInfo(ZONE)).date()
    for back in (4, 3, 2):  # well before tonight, whatever the hour
        outcome = svc.sender.deliver(sub.id, today - timedelta(days=back), now, ignore_late=True)
        assert outcome.channels == {"sms": "sent", "email": "sent"}
    for message in fake_twilio.messages:
        response = web.post("/sms/status", {"MessageSid": message.sid, "MessageStatus":
                                            "delivered", "AccountSid": DEFAULT_ACCOUNT_SID})
        assert response.status_code == 204
    for body in ("DONE", "7/10", "HELP", "pain 3"):
        assert twilio.text(PHONE, body).status_code == 200
    return sub


def everything_in(client: redis.Redis) -> Iterator[tuple[bytes, bytes]]:
    """(key, one stored value) for every value of every key, whatever its type."""
    for name in client.scan_iter(count=1000):
        kind = client.type(name).decode()
        values: list[bytes] = []
        if kind == "string":
            values = [client.get(name) or b""]
        elif kind == "hash":
            values = [item for pair in client.hgetall(name).items() for item in pair]
        elif kind in ("set",):
            values = list(client.smembers(name))
        elif kind == "zset":
            values = list(client.zrange(name, 0, -1))
        elif kind == "list":
            values = list(client.lrange(name, 0, -1))
        elif kind == "stream":
            values = [item for _id, entry in client.xrange(name)
                      for pair in entry.items() for item in pair]
        yield name, name
        for value in values:
            yield name, value


def test_forget_leaves_nothing_about_the_person_but_their_opt_out(
        twilio_env: dict[str, str], twilio_services: Services, web: WebhookClient,
        fake_twilio: FakeTwilio, redis_client: redis.Redis) -> None:
    svc = twilio_services
    sub = history(svc, web, fake_twilio)
    assert Twilio(web).text(PHONE, "STOP").status_code == 200
    sids = [message.sid for message in fake_twilio.messages]
    assert len(sids) == 3 and redis_client.exists(keys.message_index(sids[0]))
    needles = {sub.id, PHONE, PHONE[1:], PHONE[2:], ADDRESS, ADDRESS.lower(), "Ana.Lima",
               "ana.lima", *sids}
    before = [(k, v) for k, v in everything_in(redis_client)
              if any(n.encode() in v for n in needles)]
    assert len({k for k, _ in before}) > 8  # the history really is spread over many keys

    result = Cli(twilio_env)("forget", PHONE)
    assert result.returncode == 0, result.stderr
    left = sorted({k.decode() for k, v in everything_in(redis_client)
                   if any(n.encode() in v for n in needles)})
    assert left == []
    # What honours the opt-out is kept: the number cannot be enrolled again by an operator.
    assert svc.store.is_suppressed_phone(PHONE)
    again = Cli(twilio_env)("subscribe", PHONE, "--confirmed")
    assert again.returncode == 2 and "asked us to stop" in again.stderr
