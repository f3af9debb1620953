"""Data hardening: no STOP is lost to concurrent writers, and `forget` leaves nothing behind.

Everything reaches the service the way it does in production: texts and status callbacks
through the signed webhook over HTTP, sends through the fake Twilio API, `forget` through the
command line; what counts is what is in Redis afterwards.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import redis
import requests

from reminders.app.people import email_consent, preferences
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


# -- finding 6: an opt-out is never lost ------------------------------------------------------
class Rewriter(threading.Thread):
    """What `reminders set` and the console do, in a loop: read, change a few fields, save.

    A save that gives up is counted (and tried again, as an operator would); anything else
    ends the thread and is kept in `error`.
    """

    def __init__(self, svc: Services, n: int, done: threading.Event) -> None:
        super().__init__()
        self.svc, self.n, self.done = svc, n, done
        self.saves, self.gave_up, self.error = 0, 0, ""

    def run(self) -> None:
        try:
            while not self.done.is_set():
                self.rewrite_once()
        except Exception as exc:  # reported by the test
            self.error = f"writer {self.n}: {exc!r}"

    def rewrite_once(self) -> None:
        i = self.saves + self.gave_up
        current = self.svc.store.require(PHONE)
        changes = preferences.parse_assignments(current, [
            f"name=Writer {self.n} {i}", f"time=20:{i % 60:02d}",
            f"heat_ok={'yes' if i % 2 else 'no'}"])
        try:
            preferences.change(self.svc.store, current, changes)
        except Exception as exc:
            if "changed too often" not in str(exc):
                raise
            self.gave_up += 1
            return
        self.saves += 1


def test_no_stop_is_lost_while_other_writers_rewrite_the_record(
        twilio_services: Services, web: WebhookClient) -> None:
    svc = twilio_services
    sub = person(svc)
    done = threading.Event()
    writers = [Rewriter(svc, n, done) for n in range(3)]
    for thread in writers:
        thread.start()
    twilio, lost = Twilio(web), []
    try:
        for round_ in range(200):
            for word, expected in (("STOP", "opted_out"), ("START", "active")):
                response = twilio.text(PHONE, word)
                assert response.status_code == 200, response.text
                current = svc.store.get(sub.id)
                if current is None or current.sms_status != expected:
                    lost.append(f"{word} #{round_}")
    finally:
        done.set()
        for thread in writers:
            thread.join(30)
    assert not any(thread.is_alive() for thread in writers)
    assert lost == []
    assert [w.error for w in writers if w.error] == []
    assert sum(w.gave_up for w in writers) == 0 and all(w.saves > 0 for w in writers)
    actions = [event["action"] for event in svc.store.consent_history(sub.id)]
    assert actions.count("opted_out") == 200 and actions.count("opted_in") == 200
    print(f"writer saves={sum(w.saves for w in writers)} "
          f"webhook retries after a 5xx={twilio.retries}")


def test_a_stop_from_a_number_being_forgotten_is_still_honoured(
        twilio_services: Services, web: WebhookClient) -> None:
    svc = twilio_services
    sub = person(svc)
    svc.store.delete(sub, suppress=False)  # an operator's forget won the race
    assert Twilio(web).text(PHONE, "STOP").status_code == 200
    assert svc.store.is_suppressed_phone(PHONE)


# -- finding 7: forget removes everything but the opt-out -------------------------------------
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


def test_every_night_record_expires(twilio_services: Services, web: WebhookClient,
                                    fake_twilio: FakeTwilio, redis_client: redis.Redis) -> None:
    svc = twilio_services
    person(svc, "+13125550143")
    twilio = Twilio(web)
    assert twilio.text("+13125550143", "DONE").status_code == 200  # nothing sent that night
    history_keys = list(redis_client.scan_iter(match=keys.PREFIX + "night:*"))
    assert len(history_keys) == 1
    sub = history(svc, web, fake_twilio)  # a second person with sends, statuses, scores
    nights = list(redis_client.scan_iter(match=keys.PREFIX + "night:*"))
    assert len(nights) >= 5 and any(sub.id.encode() in name for name in nights)
    ttls = {name.decode(): redis_client.ttl(name) for name in nights}
    assert all(0 < ttl <= keys.NIGHT_TTL_SECONDS for ttl in ttls.values()), ttls
    for name in redis_client.scan_iter(match=keys.PREFIX + "msg:*"):
        assert redis_client.ttl(name) > 0


def test_no_night_is_recreated_by_a_late_status_callback(
        twilio_services: Services, web: WebhookClient, fake_twilio: FakeTwilio,
        redis_client: redis.Redis) -> None:
    svc = twilio_services
    sub = person(svc)
    day = datetime.now(UTC).astimezone(ZoneInfo(ZONE)).date() - timedelta(days=2)
    svc.sender.deliver(sub.id, day, datetime.now(UTC), ignore_late=True)
    [message] = fake_twilio.messages
    redis_client.delete(keys.night(sub.id, day))  # expired, while its SID record lingers
    web.post("/sms/status", {"MessageSid": message.sid, "MessageStatus": "delivered",
                             "AccountSid": DEFAULT_ACCOUNT_SID})
    assert redis_client.ttl(keys.night(sub.id, day)) != -1



def test_suppression_lists_written_in_clear_are_still_honoured(cli: Cli,
                                                              redis_client: redis.Redis) -> None:
    redis_client.sadd(keys.SUPPRESSED_PHONES, PHONE)  # as the code before hashing wrote it
    refused = cli("subscribe", PHONE, "--confirmed")
    assert refused.returncode == 2 and "asked us to stop" in refused.stderr
    assert cli("reply", PHONE, "START").returncode == 0  # their own START lifts it
    assert redis_client.smembers(keys.SUPPRESSED_PHONES) == set()
    assert cli("reply", PHONE, "STOP").returncode == 0
    assert cli("forget", PHONE).returncode == 0
    [member] = redis_client.smembers(keys.SUPPRESSED_PHONES)
    assert PHONE[2:].encode() not in member and member.startswith(b"h:")
