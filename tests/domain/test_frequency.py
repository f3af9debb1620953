"""The lighter schedule's days and the habit offer's evenings (Lally 2010: a median of 66
days to form a habit; the issue: then every 90 evenings)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from reminders.domain.frequency import (
    DAILY,
    LIGHTER,
    DaysError,
    days_code,
    full_routine_on,
    habit_offer_due,
    parse_days,
)

MONDAY = date(2027, 3, 1)


def test_daily_has_the_routine_every_evening() -> None:
    assert all(full_routine_on(DAILY, (0, 2, 4), MONDAY + timedelta(days=n)) for n in range(14))


def test_lighter_default_is_monday_wednesday_friday() -> None:
    week = [full_routine_on(LIGHTER, (), MONDAY + timedelta(days=n)) for n in range(7)]
    assert week == [True, False, True, False, True, False, False]


def test_lighter_follows_the_chosen_days() -> None:
    week = [full_routine_on(LIGHTER, (1, 3, 5), MONDAY + timedelta(days=n)) for n in range(7)]
    assert week == [False, True, False, True, False, True, False]


@pytest.mark.parametrize(("text", "days"), [
    ("mon,wed,fri", (0, 2, 4)), ("Tue Thu Sat", (1, 3, 5)), ("lun mie vie", (0, 2, 4)),
    ("martes, jueves, sabado", (1, 3, 5)), ("sun", (6,)), ("fri mon wed mon", (0, 2, 4)),
])
def test_days_people_write(text: str, days: tuple[int, ...]) -> None:
    assert parse_days(text) == days


@pytest.mark.parametrize("text", ["", "someday", "mon tue wed thu fri sat sun", "mon, 3"])
def test_days_refused(text: str) -> None:
    with pytest.raises(DaysError):
        parse_days(text)


def test_days_code_reads_back() -> None:
    assert parse_days(days_code((1, 3, 5))) == (1, 3, 5)


def test_habit_offer_on_the_66th_evening_then_every_90() -> None:
    start = date(2027, 1, 1)
    due = [n + 1 for n in range(400)
           if habit_offer_due(DAILY, start, start + timedelta(days=n))]
    assert due == [66, 156, 246, 336]


def test_no_habit_offer_on_the_lighter_schedule_or_without_a_start() -> None:
    start = date(2027, 1, 1)
    assert not habit_offer_due(LIGHTER, start, start + timedelta(days=65))
    assert not habit_offer_due(DAILY, None, start + timedelta(days=65))
    assert habit_offer_due(DAILY, start, start + timedelta(days=65))
