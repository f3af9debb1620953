"""Acknowledgement deadlines and escalation stages (domain/deadlines.py) and their settings.

Written from the issue's numbers: emergency and crisis 15 minutes, urgent 1 hour, same day 4
hours counted within clinic hours, soon 2 working days; a clinic open mon-fri 08:00-17:00.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from reminders.domain.deadlines import (
    ALWAYS,
    DeadlineError,
    parse_clinic_hours,
    parse_deadlines,
    stages,
)
from reminders.settings import ConfigError, load_settings

CHICAGO = ZoneInfo("America/Chicago")
CLINIC = parse_clinic_hours("mon-fri 08:00-17:00 America/Chicago")
DEFAULTS = parse_deadlines("emergency=15m")  # the others keep their defaults


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=CHICAGO)


def local(instant: datetime) -> str:
    return instant.astimezone(CHICAGO).strftime("%a %Y-%m-%d %H:%M")


@pytest.mark.parametrize(("level", "opened", "due"), [
    ("emergency", "2026-12-11T23:50", "Sat 2026-12-12 00:05"),  # wall time, nights too
    ("crisis", "2026-12-12T03:00", "Sat 2026-12-12 03:15"),
    ("urgent", "2026-12-11T16:30", "Fri 2026-12-11 17:30"),
    ("same_day", "2026-12-07T09:00", "Mon 2026-12-07 13:00"),
    ("same_day", "2026-12-11T16:00", "Mon 2026-12-14 11:00"),  # Friday late: Monday morning
    ("same_day", "2026-12-12T22:00", "Mon 2026-12-14 12:00"),  # Saturday night
    ("soon", "2026-12-07T10:00", "Wed 2026-12-09 10:00"),  # two working days
    ("soon", "2026-12-12T10:00", "Tue 2026-12-15 17:00"),  # from a Saturday: Mon and Tue
    ("none", "2026-12-07T09:00", "Mon 2026-12-07 13:00"),  # not understood: as same day
])
def test_deadline_by_level_in_clinic_hours(level: str, opened: str, due: str) -> None:
    acknowledge_by, _, _ = stages(level, at(opened), DEFAULTS, CLINIC)
    assert local(acknowledge_by) == due


def test_emergency_reaches_the_care_team_at_once_and_escalates_at_the_deadline() -> None:
    opened = at("2026-12-07T21:00")
    due, first, second = stages("emergency", opened, DEFAULTS, CLINIC)
    assert first == opened and local(second) == local(due) == "Mon 2026-12-07 21:15"


def test_same_day_reaches_the_team_at_the_deadline_and_escalates_one_deadline_later() -> None:
    due, first, second = stages("same_day", at("2026-12-07T09:00"), DEFAULTS, CLINIC)
    assert first == due and local(second) == "Mon 2026-12-07 17:00"


def test_without_clinic_hours_the_clock_runs_all_day() -> None:
    due, _, _ = stages("same_day", datetime(2026, 12, 12, 22, 0, tzinfo=UTC), DEFAULTS, ALWAYS)
    assert due == datetime(2026, 12, 13, 2, 0, tzinfo=UTC)
    soon, _, _ = stages("soon", datetime(2026, 12, 12, 22, 0, tzinfo=UTC), DEFAULTS, ALWAYS)
    assert soon == datetime(2026, 12, 14, 22, 0, tzinfo=UTC)


@pytest.mark.parametrize("raw", ["mon-fri 8-17 America/Chicago", "weekdays 08:00-17:00 UTC",
                                 "mon-fri 17:00-08:00 UTC", "mon-fri 08:00-17:00 Mars/Base",
                                 "mon-fri 08:00-25:00 UTC", ""])
def test_bad_clinic_hours_are_refused(raw: str) -> None:
    with pytest.raises(DeadlineError):
        parse_clinic_hours(raw)


def test_days_wrap_around_the_week() -> None:
    assert parse_clinic_hours("fri-mon 09:00-12:00 UTC").days == frozenset({4, 5, 6, 0})
    assert parse_clinic_hours("mon,wed 09:00-12:00 UTC").days == frozenset({0, 2})


@pytest.mark.parametrize(("variable", "raw", "says"), [
    ("CLINIC_HOURS", "9 to 5", "CLINIC_HOURS must look like"),
    ("REVIEW_DEADLINES", "emergency=soon", "REVIEW_DEADLINES 'emergency=soon'"),
    ("REVIEW_DEADLINES", "urgent=0h", "REVIEW_DEADLINES 'urgent=0h'"),
    ("SILENCE_EVENINGS", "0", "SILENCE_EVENINGS must be between 1 and 60"),
    ("CARE_TEAM_EMAIL", "nurses", "CARE_TEAM_EMAIL must be an email address"),
    ("CARE_TEAM_WEBHOOK_URL", "https://ehr.example/hook", "CARE_TEAM_WEBHOOK_SECRET"),
])
def test_bad_loop_settings_fail_at_start_naming_the_variable(variable: str, raw: str,
                                                              says: str) -> None:
    with pytest.raises(ConfigError, match=says.replace("(", r"\(")):
        load_settings({variable: raw}, dotenv=False)


def test_loop_settings_are_read() -> None:
    care = load_settings({"CLINIC_HOURS": "mon-fri 08:00-17:00 America/Chicago",
                          "REVIEW_DEADLINES": "urgent=30m", "SILENCE_EVENINGS": "5",
                          "CARE_TEAM_EMAIL": "team@clinic.example"}, dotenv=False).care
    assert care.clinic_hours == CLINIC and care.silence_evenings == 5
    assert care.deadlines["urgent"] == (30, "m") and care.deadlines["crisis"] == (15, "m")
    assert care.team_email == "team@clinic.example"
