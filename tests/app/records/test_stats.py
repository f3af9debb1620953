"""`reminders stats`: subscribers by state and per-night numbers, from the real sender's records."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from reminders.app.people import email_consent, preferences
from reminders.app.people.preferences import Enrolment
from reminders.app.sending import delivery_status
from reminders.domain.subscriber import Subscriber
from reminders.storage import nights
from reminders.wiring import Services
from tests.conftest import Cli

ZONE = "America/Chicago"


def enrol(svc: Services, phone: str | None = None, email: str | None = None,
          channel: str | None = None, confirmed: bool = True) -> Subscriber:
    return preferences.enrol(svc.store, svc.settings, Enrolment(
        phone=phone, email=email, channel=channel, timezone=ZONE, time="20:00",
        confirmed=confirmed))


def zeros() -> dict[str, Any]:
    return {"sent": 0, "delivered": 0, "failed": 0, "missed": 0, "skipped": 0,
            "skipped_by_reason": {"opted_out": 0, "paused": 0, "other": 0}}


def night(numbers: list[dict[str, Any]], day: date) -> dict[str, Any]:
    return next(row for row in numbers if row["date"] == day.isoformat())


def callback(svc: Services, sub: Subscriber, day: date, status: str) -> None:
    """What the status webhook does when Twilio reports on tonight's text."""
    sid = nights.read(svc.redis, sub.id, day)["sms_id"]
    changed, _ = delivery_status.advance(svc.store, sid, status)
    assert changed


def test_stats_json_counts_states_and_each_night(cli: Cli, console_services: Services) -> None:
    svc = console_services
    now = datetime.now(UTC)
    today = now.astimezone(ZoneInfo(ZONE)).date()
    yesterday = today - timedelta(days=1)

    delivered = enrol(svc, "+13125550101")
    undelivered = enrol(svc, "+13125550102")
    paused = enrol(svc, "+13125550103")
    paused = preferences.change(svc.store, paused, {"paused_until": today + timedelta(days=3)})
    stopped = enrol(svc, "+13125550104")
    assert svc.inbound(now).handle("+13125550104", "STOP") is None
    unconfirmed = enrol(svc, "+13125550105", confirmed=False)
    late = enrol(svc, "+13125550106")
    emailed = enrol(svc, email="em@example.org")
    unsubscribed = enrol(svc, email="gone@example.org")
    assert email_consent.unsubscribe(svc.store, "gone@example.org", now)

    for sub in (delivered, undelivered, paused, stopped, unconfirmed, emailed, unsubscribed):
        svc.sender.deliver(sub.id, today, now, ignore_late=True)
    svc.sender.deliver(delivered.id, yesterday, now, ignore_late=True)
    callback(svc, delivered, today, "delivered")
    callback(svc, undelivered, today, "undelivered")
    nights.record_missed(svc.redis, late, today, reason="late")
    # Sending again the same night changes no number: each night is counted once.
    for sub in (delivered, paused, stopped, emailed):
        svc.sender.deliver(sub.id, today, now, ignore_late=True)

    result = cli("stats", "--json", "--days", "3")
    assert result.returncode == 0, result.stderr
    stats = json.loads(result.stdout)
    assert set(stats) == {"subscribers", "counts", "nights", "unreadable", "loop"}
    assert stats["counts"]["channel"] == {"sms": 6, "email": 2}
    assert stats["counts"]["zone"] == {ZONE: 8}  # loop: the care team's figures
    assert stats["unreadable"]["records"] == 0
    assert stats["subscribers"] == {
        "sms": {"pending": 1, "active": 4, "opted_out": 1, "invalid": 0, "none": 2},
        "email": {"pending": 0, "active": 1, "unsubscribed": 1, "bouncing": 0, "none": 6},
        "paused": 1, "flags_open": 0,
        "total": 8,
    }
    assert [row["date"] for row in stats["nights"]][:2] in (
        [today.isoformat(), yesterday.isoformat()],  # the usual case
        [(today + timedelta(days=1)).isoformat(), today.isoformat()],  # midnight passed since
    )
    assert len(stats["nights"]) == 3
    assert night(stats["nights"], today) == {
        "date": today.isoformat(),
        "sms": {"sent": 2, "delivered": 1, "failed": 1, "missed": 1, "skipped": 3,
                "skipped_by_reason": {"opted_out": 1, "paused": 1, "other": 1}},
        "email": {"sent": 1, "delivered": 0, "failed": 0, "missed": 0, "skipped": 1,
                  "skipped_by_reason": {"opted_out": 1, "paused": 0, "other": 0}},
        "voice": zeros(),  # every declared channel has its row (nobody here is called)
    }
    assert night(stats["nights"], yesterday) == {
        "date": yesterday.isoformat(), "sms": {**zeros(), "sent": 1}, "email": zeros(),
        "voice": zeros()}
    # The counts were kept with every write: counting every record again finds no drift.
    recounted = json.loads(cli("stats", "--json", "--recount").stdout)
    assert recounted["recount"] == {"records": 8, "drift": {}}
    assert recounted["subscribers"] == stats["subscribers"]

    # Resumed the same evening, before the late limit: the skipped night is sent after all,
    # and counts as sent, no longer as skipped.
    preferences.change(svc.store, paused, {"paused_until": None})
    assert svc.sender.deliver(paused.id, today, now, ignore_late=True).channels == {
        "sms": "sent"}
    again = json.loads(cli("stats", "--json", "--days", "3").stdout)
    assert night(again["nights"], today)["sms"] == {
        "sent": 3, "delivered": 1, "failed": 1, "missed": 1, "skipped": 2,
        "skipped_by_reason": {"opted_out": 1, "paused": 0, "other": 1}}


def test_stats_without_subscribers_is_all_zeros(cli: Cli) -> None:
    stats = json.loads(cli("stats", "--json").stdout)
    assert stats["subscribers"] == {
        "sms": {"pending": 0, "active": 0, "opted_out": 0, "invalid": 0, "none": 0},
        "email": {"pending": 0, "active": 0, "unsubscribed": 0, "bouncing": 0, "none": 0},
        "paused": 0, "flags_open": 0, "total": 0}
    assert len(stats["nights"]) == 7
    days = [date.fromisoformat(row["date"]) for row in stats["nights"]]
    assert days == [days[0] - timedelta(days=n) for n in range(7)]
    assert all(row["sms"] == zeros() and row["email"] == zeros() for row in stats["nights"])


def test_stats_table_for_people(cli: Cli, console_services: Services) -> None:
    sub = enrol(console_services, "+13125550101")
    today = datetime.now(UTC).astimezone(ZoneInfo(ZONE)).date()
    console_services.sender.deliver(sub.id, today, datetime.now(UTC), ignore_late=True)
    result = cli("stats", "--days", "2")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "Subscribers: 1, paused: 0, open foot-problem flags: 0"
    assert ["active", "1", "0"] in [line.split() for line in lines]
    rows = [line.split() for line in lines if line[:4].isdigit() and line[4:6] != "-W"]
    assert len(rows) == 2 and rows[0][1] == "sms"
    assert any(row[:3] == [today.isoformat(), "sms", "1"] for row in rows)


def test_stats_bad_days_exit_2(cli: Cli) -> None:
    for days in ("0", "401", "many"):
        result = cli("stats", "--days", days)
        assert result.returncode == 2, days
        assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
