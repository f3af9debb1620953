"""The loop's figures: `stats --json` (per week: median minutes to acknowledge by level,
closed by outcome, past deadline, check-ins sent and answered, escalations), the console's
inbox, and /metrics' open items by level and age."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from reminders.app.care import loop_stats
from reminders.app.care.silence import iso_week
from reminders.app.people.preferences import Enrolment, enrol
from reminders.entry.web.app import create_app
from reminders.wiring import Services
from tests.conftest import Cli

PHONE = "+13125550142"


@pytest.fixture
def svc(console_services: Services) -> Services:
    enrol(console_services.store, console_services.settings, Enrolment(
        phone=PHONE, name="Ana Ruiz", timezone="America/Chicago", time="20:00",
        confirmed=True), datetime.now(UTC) - timedelta(days=30))
    return console_services


def test_acknowledgement_outcomes_and_deadlines_by_week(svc: Services, cli: Cli) -> None:
    now = datetime.now(UTC)
    opened = now - timedelta(hours=6)
    svc.inbound(opened).handle(PHONE, "I want to die")  # crisis: 15 min
    svc.inbound(opened).handle(PHONE, "blister on my heel")  # same day: 4 h
    svc.inbound(opened).handle(PHONE, "what is this")  # not understood: 4 h, never taken
    crisis, flag, unclear = svc.reviews.inbox()
    svc.reviews.take(crisis["id"], "nurse", opened + timedelta(minutes=10))
    svc.reviews.close(svc.store, crisis["id"], "referred", "crisis line, GP told", "nurse",
                      opened + timedelta(minutes=40))
    svc.reviews.take(flag["id"], "nurse", opened + timedelta(hours=5))  # an hour late
    svc.reviews.close(svc.store, flag["id"], "reached", "seeing podiatry", "nurse",
                      opened + timedelta(hours=5, minutes=10))
    result = json.loads(cli("stats", "--json").stdout)["loop"]
    [week] = [w for w in result["weeks"] if w["week"] == iso_week(opened.date())]
    assert week["ack_median_minutes"] == {"crisis": 10.0, "same_day": 300.0}
    assert week["outcomes"]["referred"] == 1 and week["outcomes"]["reached"] == 1
    assert week["past_deadline"] == 2  # the flag taken late, the text nobody took
    assert result["open"]["same_day"]["4h_24h"] == 1 and unclear["state"] == "open"
    text = cli("stats").stdout
    assert "Care-team loop, by week" in text and "same_day 1" in text


def test_metrics_expose_open_items_by_level_and_age(svc: Services) -> None:
    now = datetime.now(UTC)
    svc.inbound(now - timedelta(hours=30)).handle(PHONE, "my ankle is swollen")
    svc.inbound(now).handle(PHONE, "I feel so down lately")
    body = create_app(svc).test_client().get("/metrics").get_data(as_text=True)
    assert 'reminders_review_open{age="1d_3d",level="same_day"} 1.0' in body
    assert 'reminders_review_open{age="under_1h",level="soon"} 1.0' in body
    assert 'reminders_review_open{age="under_1h",level="crisis"} 0.0' in body


def test_age_buckets() -> None:
    assert [loop_stats.age_bucket(h) for h in (0, 0.99, 1, 3.9, 4, 23, 24, 71, 72, 500)] == [
        "under_1h", "under_1h", "1h_4h", "1h_4h", "4h_24h", "4h_24h", "1d_3d", "1d_3d",
        "over_3d", "over_3d"]
