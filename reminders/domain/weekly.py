"""The weekly progress facts: evenings done, streak, average score and its change, in words.

Pure rules, no I/O: app/evenings/weekly.py reads the evenings (DONE and the 0-10 score kept in each
night record) and hands them here; messages/weekly.py renders the result.

"This week" is the 7 evenings before the summary evening (the summary goes out at that evening's
time, before the person could answer it), "last week" the 7 before those. One summary per
(person, ISO week of the summary evening): `week_key`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
WEEK = 7
CHART_EVENINGS = 28
# A change in the average score smaller than this is "about the same" (scores are whole numbers
# people pick by feel: half a point is noise); from BIG_CHANGE on it is no longer "a little".
SAME = 0.5
BIG_CHANGE = 2.0


@dataclass(frozen=True)
class Evening:
    day: date
    done: bool
    score: int | None  # 0-10, None when none was sent


@dataclass(frozen=True)
class WeekFacts:
    summary_date: date
    week_key: str  # "2026-W49": the ISO week of the summary evening
    done: int  # evenings with DONE among this week's 7
    streak: int  # DONE evenings in a row, up to the evening before the summary
    average: int | None  # this week's mean score, rounded; None: no score this week
    previous: int | None  # the week before's, rounded
    change: str  # lower | little_lower | same | little_higher | higher | "" (nothing to compare)
    evenings: tuple[Evening, ...]  # the CHART_EVENINGS evenings before the summary, oldest first
    # The person's schedule (a daily person's summary mentions LESS) and this week's left-right
    # foot temperature differences in °C, oldest first (TEMP; empty when they sent none).
    frequency: str = "daily"
    temp_gaps: tuple[float, ...] = ()

    @property
    def scored(self) -> bool:
        return self.average is not None


def weekday_number(name: str) -> int:
    """'sunday' -> 6 (date.weekday()); ValueError for anything else."""
    return WEEKDAYS.index(name.strip().lower())


def is_summary_evening(day: date, weekday: int) -> bool:
    return day.weekday() == weekday


def summary_date_for(day: date, weekday: int) -> date:
    """The summary evening of the ISO week `day` is in (same Monday-Sunday week)."""
    return day - timedelta(days=day.weekday()) + timedelta(days=weekday)


def week_key(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def has_full_week(created_at: str, summary_date: date) -> bool:
    """Whether the person was with us for the whole week the summary would be about (a
    summary of evenings before they joined would read "0 of 7": no kind way to start).
    `created_at`: ISO 8601 UTC ("" for records older than the field: yes)."""
    if not created_at:
        return True
    try:
        joined = date.fromisoformat(created_at[:10])
    except ValueError:
        return True
    return joined <= summary_date - timedelta(days=WEEK)


def evenings_before(summary_date: date, count: int = CHART_EVENINGS) -> list[date]:
    """The `count` evenings before the summary evening, oldest first."""
    return [summary_date - timedelta(days=n) for n in range(count, 0, -1)]


def facts(summary_date: date, evenings: list[Evening]) -> WeekFacts:
    """`evenings`: the CHART_EVENINGS evenings before the summary evening, oldest first."""
    by_day = {e.day: e for e in evenings}
    days = evenings_before(summary_date)
    this_week = [by_day.get(d, Evening(d, False, None)) for d in days[-WEEK:]]
    last_week = [by_day.get(d, Evening(d, False, None)) for d in days[-2 * WEEK:-WEEK]]
    streak = 0
    for day in reversed(days):
        if not by_day.get(day, Evening(day, False, None)).done:
            break
        streak += 1
    average, previous = _mean(this_week), _mean(last_week)
    return WeekFacts(
        summary_date=summary_date, week_key=week_key(summary_date),
        done=sum(e.done for e in this_week), streak=streak,
        average=None if average is None else round(average),
        previous=None if previous is None else round(previous),
        change=_change(average, previous),
        evenings=tuple(by_day.get(d, Evening(d, False, None)) for d in days))


def _mean(evenings: list[Evening]) -> float | None:
    scores = [e.score for e in evenings if e.score is not None]
    return sum(scores) / len(scores) if scores else None


def _change(average: float | None, previous: float | None) -> str:
    """How this week's pain compares with last week's, as a word the template turns into text
    (the means, not the rounded numbers: 4.4 against 4.6 is the same, not "lower")."""
    if average is None or previous is None:
        return ""
    delta = average - previous
    if abs(delta) < SAME:
        return "same"
    size = "" if abs(delta) >= BIG_CHANGE else "little_"
    return size + ("lower" if delta < 0 else "higher")
