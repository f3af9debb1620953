"""When a review item must be acknowledged, and when it is escalated: pure date maths.

A level's deadline is a duration (REVIEW_DEADLINES). Emergency, crisis and urgent count wall
time (the care team's on-call covers nights); same day and soon count clinic time only
(CLINIC_HOURS): 4 h opened at 16:00 on a Friday with clinic hours mon-fri 08:00-17:00 falls due
at 11:00 on Monday, and "2d" is two clinic days of clinic time. Default clinic hours: every day,
all day (a clinic that staffs the loop around the clock).

Escalation has two stages: the care team (CARE_TEAM_EMAIL, the webhook), then the escalation
address. Emergency and crisis reach the care team at once and the escalation address when the
deadline passes unacknowledged; the other levels reach the care team when the deadline passes,
and the escalation address one more deadline later.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

LEVELS = ("emergency", "crisis", "urgent", "same_day", "soon")
IMMEDIATE = frozenset({"emergency", "crisis"})
CLINIC_TIME = frozenset({"same_day", "soon"})
# What a review item's deadline counts from when its text has no level of its own: a text
# nobody understood may be a foot problem (the safety net said "your doctor today").
DEADLINE_LEVEL = {"none": "same_day", "routine": "soon"}
DEFAULT_DEADLINES = "emergency=15m,crisis=15m,urgent=1h,same_day=4h,soon=2d"
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_UNIT = re.compile(r"^(\d{1,5})([mhd])$")
_HOURS = re.compile(r"^(?P<days>[a-z,\-]+)\s+(?P<start>\d{1,2}:\d{2})-(?P<end>\d{1,2}:\d{2})"
                    r"\s+(?P<zone>\S+)$")


class DeadlineError(ValueError):
    """A REVIEW_DEADLINES or CLINIC_HOURS value that cannot be read (the message says why)."""


@dataclass(frozen=True)
class ClinicHours:
    """The days (0 Monday .. 6 Sunday) and the local hours the loop is staffed."""

    days: frozenset[int] = frozenset(range(7))
    start: time = time(0, 0)
    end: time | None = None  # None: until midnight
    zone: str = "UTC"

    @property
    def day_minutes(self) -> int:
        end = 24 * 60 if self.end is None else self.end.hour * 60 + self.end.minute
        return end - (self.start.hour * 60 + self.start.minute)

    def _open_span(self, day: datetime) -> tuple[datetime, datetime]:
        opens = day.replace(hour=self.start.hour, minute=self.start.minute, second=0,
                            microsecond=0)
        return opens, opens + timedelta(minutes=self.day_minutes)

    def add(self, at: datetime, minutes: float) -> datetime:
        """`at` plus `minutes` of clinic time (UTC in, UTC out)."""
        zone = ZoneInfo(self.zone)
        cursor = at.astimezone(zone)
        left = timedelta(minutes=minutes)
        for _ in range(3660):  # ten years of days: bounds a loop over a strange calendar
            if cursor.weekday() in self.days:
                opens, closes = self._open_span(cursor)
                start = max(cursor, opens)
                if start < closes:
                    if start + left <= closes:
                        return (start + left).astimezone(UTC)
                    left -= closes - start
            next_day = (cursor + timedelta(days=1)).replace(hour=0, minute=0, second=0,
                                                            microsecond=0)
            cursor = next_day.replace(tzinfo=zone)
        raise DeadlineError("clinic hours never open")


ALWAYS = ClinicHours()


def parse_clinic_hours(raw: str) -> ClinicHours:
    """`mon-fri 08:00-17:00 America/Chicago`, `mon,wed,fri 09:00-13:00 UTC`."""
    found = _HOURS.match(" ".join(raw.lower().split()))
    if found is None:
        raise DeadlineError("must look like 'mon-fri 08:00-17:00 America/Chicago'")
    zone = raw.split()[-1]
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise DeadlineError(f"{zone!r} is not a known IANA time zone") from None
    start, end = (_clock(found[name]) for name in ("start", "end"))
    if end <= start:
        raise DeadlineError("the closing time must be after the opening time")
    return ClinicHours(_days(found["days"]), start, end, zone)


def _clock(raw: str) -> time:
    hours, minutes = (int(part) for part in raw.split(":"))
    if hours > 23 or minutes > 59:
        raise DeadlineError(f"{raw!r} is not a time of day")
    return time(hours, minutes)


def _days(raw: str) -> frozenset[int]:
    days: set[int] = set()
    for part in raw.split(","):
        ends = part.split("-")
        if len(ends) > 2 or any(end not in _DAYS for end in ends):
            raise DeadlineError(f"{part!r} is not a day or a range of days (mon-fri)")
        first, last = _DAYS.index(ends[0]), _DAYS.index(ends[-1])
        days.update(day % 7 for day in range(first, first + (last - first) % 7 + 1))
    return frozenset(days)


def parse_deadlines(raw: str) -> dict[str, tuple[int, str]]:
    """`emergency=15m,urgent=1h,soon=2d` -> {level: (amount, unit)}; levels not named keep
    the default."""
    found = dict(_pairs(DEFAULT_DEADLINES))
    found.update(_pairs(raw))
    return found


def _pairs(raw: str) -> list[tuple[str, tuple[int, str]]]:
    pairs = []
    for part in raw.split(","):
        level, _, amount = part.strip().partition("=")
        unit = _UNIT.match(amount.strip())
        if level.strip() not in LEVELS or unit is None or int(unit[1]) == 0:
            raise DeadlineError(f"{part.strip()!r}: want LEVEL=N(m|h|d), LEVEL one of "
                                f"{', '.join(LEVELS)}")
        pairs.append((level.strip(), (int(unit[1]), unit[2])))
    return pairs


def deadline_level(level: str) -> str:
    return level if level in LEVELS else DEADLINE_LEVEL.get(level, "soon")


def due_by(level: str, at: datetime, deadlines: dict[str, tuple[int, str]],
           clinic: ClinicHours) -> datetime:
    """When an item opened at `at` must be acknowledged."""
    level = deadline_level(level)
    amount, unit = deadlines[level]
    if level not in CLINIC_TIME:
        return at + timedelta(minutes=amount * {"m": 1, "h": 60, "d": 24 * 60}[unit])
    per_day = clinic.day_minutes
    return clinic.add(at, amount * {"m": 1, "h": 60, "d": per_day}[unit])


def stages(level: str, at: datetime, deadlines: dict[str, tuple[int, str]],
           clinic: ClinicHours) -> tuple[datetime, datetime, datetime]:
    """(acknowledge by, care team at, escalation address at) for an item opened at `at`."""
    due = due_by(level, at, deadlines, clinic)
    if deadline_level(level) in IMMEDIATE:
        return due, at, due
    return due, due, due_by(level, due, deadlines, clinic)
