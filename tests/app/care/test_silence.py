"""Silence: delivered evenings with no reply bring one check-in text after SILENCE_EVENINGS,
and a review item "call them" after twice that; never while paused or after STOP; a text the
carrier cannot deliver (30003/30005/30006) puts the person on the unreachable list instead.
Through the real send path to the fake Twilio and Twilio's signed status callbacks."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests

from reminders.app.care import inbox
from reminders.app.people.preferences import Enrolment, enrol
from reminders.storage import counters
from reminders.wiring import Services
from testing.twilio_api import DEFAULT_ACCOUNT_SID, FakeTwilio
from tests.conftest import make_services
from tests.webhook_client import WebhookClient, answering_here

PHONE = "+13125550142"
CHECKIN = "Still doing OK? Reply DONE, PAUSE, or HELP."


def silent_person(twilio_env: dict[str, str]) -> Services:
    """Ana, enrolled 40 days ago; her check-in is due after 3 delivered evenings unanswered."""
    services = make_services({**twilio_env, "SILENCE_EVENINGS": "3"})
    enrol(services.store, services.settings, Enrolment(
        phone=PHONE, name="Ana Ruiz", timezone="America/Chicago", time="20:00", confirmed=True),
        datetime.now(UTC) - timedelta(days=40))
    return services


@pytest.fixture
def svc(twilio_env: dict[str, str]) -> Services:
    return silent_person(twilio_env)


@pytest.fixture
def web(svc: Services) -> Iterator[WebhookClient]:
    with answering_here(svc) as client:
        yield client


def status(web: WebhookClient, sid: str, state: str, code: str = "") -> requests.Response:
    params = {"MessageSid": sid, "SmsSid": sid, "MessageStatus": state, "SmsStatus": state,
              "AccountSid": DEFAULT_ACCOUNT_SID, "To": PHONE, "From": "+15005550006",
              "ApiVersion": "2010-04-01", **({"ErrorCode": code} if code else {})}
    return web.post("/sms/status", params)


class Evenings:
    """Evenings sent one after the other (oldest first), each answered by its status."""

    def __init__(self, svc: Services, fake: FakeTwilio, web: WebhookClient, count: int) -> None:
        today = datetime.now(UTC).astimezone(ZoneInfo("America/Chicago")).date()
        self.days = [today - timedelta(days=n) for n in range(count - 1, -1, -1)]
        self.svc, self.fake, self.web = svc, fake, web

    def send(self, day: date, state: str = "delivered", code: str = "") -> None:
        before = len(self.fake.messages)
        sub = self.svc.store.require(PHONE)
        self.svc.sender.deliver(sub.id, day, datetime.now(UTC), ignore_late=True)
        sid = self.fake.messages[before].sid
        assert status(self.web, sid, state, code).status_code == 204


def bodies(fake: FakeTwilio) -> list[str]:
    return [m.body for m in fake.messages]


def test_silent_evenings_bring_one_check_in_then_a_call_them_item(
        svc: Services, fake_twilio: FakeTwilio, web: WebhookClient) -> None:
    evenings = Evenings(svc, fake_twilio, web, 7)
    for day in evenings.days[:2]:
        evenings.send(day)
    assert not any(CHECKIN in b for b in bodies(fake_twilio)) and svc.reviews.inbox() == []
    evenings.send(evenings.days[2])  # the third silent evening
    checkins = [m for m in fake_twilio.messages if CHECKIN in m.body]
    assert len(checkins) == 1 and checkins[0].to == PHONE
    assert checkins[0].body == ("We have not heard from you for a few evenings. " + CHECKIN
                                + " Reply STOP to end these texts.")
    for day in evenings.days[3:5]:
        evenings.send(day)
    assert len([b for b in bodies(fake_twilio) if CHECKIN in b]) == 1  # one per stretch
    assert svc.reviews.inbox() == []
    evenings.send(evenings.days[5])  # the sixth: twice SILENCE_EVENINGS
    [item] = svc.reviews.inbox()
    assert (item["kind"], item["category"], item["level"]) == ("silence", "silence", "soon")
    assert "call them" in item["text"]
    evenings.send(evenings.days[6])
    assert len(svc.reviews.inbox()) == 1 and len(
        [b for b in bodies(fake_twilio) if CHECKIN in b]) == 1


def test_a_reply_ends_the_stretch_and_counts_the_check_in_as_answered(
        svc: Services, fake_twilio: FakeTwilio, web: WebhookClient) -> None:
    evenings = Evenings(svc, fake_twilio, web, 6)
    for day in evenings.days[:3]:
        evenings.send(day)
    web.text(PHONE, "DONE")
    for day in evenings.days[3:5]:
        evenings.send(day)
    assert len([b for b in bodies(fake_twilio) if CHECKIN in b]) == 1
    figures = counters.read_all(svc.redis)
    assert sum(int(v) for k, v in figures.items() if k.startswith("loop:checkin_answered")) == 1
    assert sum(int(v) for k, v in figures.items() if k.startswith("loop:checkin_sent")) == 1


def test_never_while_paused(svc: Services, fake_twilio: FakeTwilio,
                            web: WebhookClient) -> None:
    evenings = Evenings(svc, fake_twilio, web, 3)
    for day in evenings.days[:2]:
        evenings.send(day)
    sub = svc.store.require(PHONE)
    svc.sender.deliver(sub.id, evenings.days[2], datetime.now(UTC), ignore_late=True)
    in_flight = fake_twilio.messages[-1].sid
    # an operator pauses them (a holiday they phoned about) while the third text is out
    svc.store.save(sub, sub.with_changes(paused_until=evenings.days[-1] + timedelta(days=7)),
                   [], datetime.now(UTC))
    assert status(web, in_flight, "delivered").status_code == 204
    assert not any(CHECKIN in b for b in bodies(fake_twilio))
    assert svc.reviews.inbox() == []


def test_never_after_stop(svc: Services, fake_twilio: FakeTwilio, web: WebhookClient) -> None:
    evenings = Evenings(svc, fake_twilio, web, 3)
    for day in evenings.days[:2]:
        evenings.send(day)
    sub = svc.store.require(PHONE)
    svc.sender.deliver(sub.id, evenings.days[2], datetime.now(UTC), ignore_late=True)
    in_flight = fake_twilio.messages[-1].sid
    web.text(PHONE, "STOP")  # the third evening's text was on its way
    assert status(web, in_flight, "delivered").status_code == 204
    assert not any(CHECKIN in b for b in bodies(fake_twilio))
    assert svc.silence.send_checkin(sub.id, evenings.days[2], datetime.now(UTC)) == "skipped"


def test_an_unreachable_handset_goes_to_the_unreachable_list(
        svc: Services, fake_twilio: FakeTwilio, web: WebhookClient) -> None:
    evenings = Evenings(svc, fake_twilio, web, 4)
    for day in evenings.days:
        evenings.send(day, "undelivered", "30003")
    assert not any(CHECKIN in b for b in bodies(fake_twilio))
    [row] = inbox.unreachable_people(svc.store)
    assert (row["phone"], row["code"]) == (PHONE, "30003")
