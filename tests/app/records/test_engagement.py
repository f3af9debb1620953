"""Engagement by program week: delivered evenings (signed status callbacks through the web app)
and the ones answered with DONE or a score, counted once each, shown by `reminders analytics`
and the console, rebuilt by `stats --recount`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests

from reminders.app.people.forget import forget
from reminders.app.people.preferences import Enrolment, enrol
from reminders.app.records import stats
from reminders.domain.subscriber import Subscriber
from reminders.storage import keys
from reminders.wiring import Services
from testing.twilio_api import DEFAULT_ACCOUNT_SID, FakeTwilio
from tests.conftest import Cli, run_threads
from tests.webhook_client import WebhookClient, answering_here

CHICAGO = ZoneInfo("America/Chicago")
# Yesterday's evening in Chicago (so every date a recount or analytics reads covers it), 21:00.
EVENING = datetime.now(UTC).astimezone(CHICAGO).date() - timedelta(days=1)
AT = datetime.combine(EVENING, time(21, 0), CHICAGO).astimezone(UTC)
MIDNIGHT = datetime.combine(EVENING, time(0), UTC)


@pytest.fixture
def web(twilio_services: Services) -> Iterator[WebhookClient]:
    with answering_here(twilio_services) as client:
        yield client


def person(svc: Services, phone: str, started: datetime, language: str | None = None
           ) -> Subscriber:
    return enrol(svc.store, svc.settings, Enrolment(
        phone=phone, timezone="America/Chicago", time="20:00", confirmed=True,
        language=language), started)


def send(svc: Services, fake: FakeTwilio, sub: Subscriber) -> str:
    before = len(fake.messages)
    assert svc.sender.deliver(sub.id, EVENING, AT, ignore_late=True).channels == {"sms": "sent"}
    return fake.messages[before].sid


def status(web: WebhookClient, phone: str, sid: str, state: str) -> requests.Response:
    return web.post("/sms/status", {
        "MessageSid": sid, "SmsSid": sid, "MessageStatus": state, "SmsStatus": state,
        "AccountSid": DEFAULT_ACCOUNT_SID, "To": phone, "From": "+15005550006",
        "ApiVersion": "2010-04-01"})


def kept(svc: Services, day: date = EVENING) -> dict[str, int]:
    raw = svc.redis.hgetall(keys.night_stats(day))
    return {k.decode(): int(v) for k, v in raw.items() if k.startswith(b"engagement:")}


def test_each_evening_counts_once_under_its_program_week(
        twilio_services: Services, fake_twilio: FakeTwilio, web: WebhookClient,
        cli: Cli) -> None:
    svc = twilio_services
    # Two people in their third program week (16.5 days before the evening's date), one
    # Spanish speaker in her first.
    ana = person(svc, "+13125550201", MIDNIGHT - timedelta(days=16, hours=12))
    ben = person(svc, "+13125550202", MIDNIGHT - timedelta(days=16, hours=12))
    eva = person(svc, "+13125550203", MIDNIGHT - timedelta(hours=1), language="es")
    sids = {sub.phone: send(svc, fake_twilio, sub) for sub in (ana, ben, eva)}

    # Eva answers with a score before her delivery report arrives.
    assert svc.inbound(AT).handle("+13125550203", "2")
    assert kept(svc) == {}  # nothing delivered yet: nothing counted
    for phone, sid in sids.items():
        for state in ("sent", "delivered", "delivered"):  # a callback twice, a late one too
            assert status(web, phone, sid, state).status_code == 204
    assert status(web, "+13125550201", sids["+13125550201"], "sent").status_code == 204
    # Ana answers DONE twice, then a score: one engaged evening.
    for text in ("DONE", "DONE", "3"):
        assert svc.inbound(AT).handle("+13125550201", text)
    assert kept(svc) == {"engagement:delivered:2/en": 2, "engagement:engaged:2/en": 1,
                         "engagement:delivered:0/es": 1, "engagement:engaged:0/es": 1}

    found = json.loads(cli("analytics", "--json").stdout)["engagement"]
    assert found == [
        {"week": 0, "delivered": 1, "engaged": 1, "share": 1.0,
         "by_language": {"es": {"delivered": 1, "engaged": 1, "share": 1.0}}},
        {"week": 2, "delivered": 2, "engaged": 1, "share": 0.5,
         "by_language": {"en": {"delivered": 2, "engaged": 1, "share": 0.5}}}]
    table = cli("analytics")
    assert table.returncode == 0, table.stderr
    assert "Evenings answered (DONE or a score)" in table.stdout

    from tests.console_client import add_operator, logged_in

    add_operator(svc)
    from reminders.entry.web.app import create_app
    page = logged_in(create_app(svc)).get("/console/analytics")
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "<td>2</td><td>2</td><td>1</td><td>50%</td>" in body
    assert "week 2: 50% of 2 delivered evenings answered" in body

    # A counter gone wrong (and one lost): the recount reports and corrects both.
    svc.redis.hincrby(keys.night_stats(EVENING), "engagement:delivered:2/en", 5)
    svc.redis.hdel(keys.night_stats(EVENING), "engagement:engaged:0/es")
    out = cli("stats", "--recount", "--json")
    assert out.returncode == 0, out.stderr
    drift = json.loads(out.stdout)["recount"]["drift"]
    assert drift == {
        f"engagement:{EVENING}:delivered:2/en": {"kept": 7, "counted": 2},
        f"engagement:{EVENING}:engaged:0/es": {"kept": 0, "counted": 1}}
    assert kept(svc) == {"engagement:delivered:2/en": 2, "engagement:engaged:2/en": 1,
                         "engagement:delivered:0/es": 1, "engagement:engaged:0/es": 1}
    again = json.loads(cli("stats", "--recount", "--json").stdout)["recount"]["drift"]
    assert again == {}


def test_callbacks_and_answers_racing_count_each_evening_once(
        twilio_services: Services, fake_twilio: FakeTwilio, web: WebhookClient) -> None:
    """Twilio retries callbacks and people text DONE twice: three signed `delivered` callbacks
    for each text and two DONEs from every other person, all at once, count each evening once,
    and a recount finds nothing to correct."""
    svc = twilio_services
    people = [person(svc, f"+131255503{n:02d}", MIDNIGHT - timedelta(days=3)) for n in range(12)]
    sids = [(sub.phone or "", send(svc, fake_twilio, sub)) for sub in people]

    def callback(phone: str, sid: str) -> None:
        assert status(web, phone, sid, "delivered").status_code == 204

    def done(phone: str) -> None:
        assert svc.inbound(AT).handle(phone, "DONE")

    run_threads([*(lambda p=p, s=s: callback(p, s) for p, s in sids for _ in range(3)),
                 *(lambda p=p: done(p) for p, _ in sids[::2] for _ in range(2))])
    assert kept(svc) == {"engagement:delivered:0/en": 12, "engagement:engaged:0/en": 6}
    assert stats.recount(svc.store, datetime.now(UTC)).fields == {}
    # An erased person's evening leaves the counts with their records: still no drift.
    forget(svc.store, svc.store.require(sids[0][0]))
    assert kept(svc) == {"engagement:delivered:0/en": 11, "engagement:engaged:0/en": 5}
    assert stats.recount(svc.store, datetime.now(UTC)).fields == {}
