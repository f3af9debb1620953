"""The visit report's facts, as plain values (app/records/visit_report.py reads them, messages/
visit_report.py prints them): the evenings, the scores, the problems, the routines and the
person's settings in words a patient can read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from reminders.domain.foot_problems import Problem
from reminders.domain.subscriber import Subscriber

MAX_ROWS = 5  # per table: what fits one page beside the chart


@dataclass(frozen=True)
class Evening:
    day: date
    outcome: str  # history.py's: delivered, sent, failed, missed, skipped or ""
    done: bool
    score: int | None
    sent: bool = False  # the provider took the evening's text or email (it may not arrive)


@dataclass(frozen=True)
class TemperaturePair:
    """Left and right sole temperatures of one evening, in degrees Celsius."""

    day: date
    left_c: float
    right_c: float

    @property
    def difference_c(self) -> float:
        return round(abs(self.left_c - self.right_c), 1)


@dataclass(frozen=True)
class VisitFacts:
    name: str
    handle: str
    program: str
    enrolled: date | None  # when they joined (their own date), if known
    first_day: date  # the report's period, in the person's own dates
    last_day: date
    known_from: date  # the oldest evening whose record is still kept
    evenings: list[Evening]
    problems: list[Problem]
    routines: list[tuple[str, int]]  # (routine, evenings done), most done first
    preferences: list[tuple[str, str]]  # (what, setting), in words
    zone: str = "UTC"  # the person's time zone: dates are theirs
    kept_days: int = 45  # how long evenings are kept (storage's NIGHT_TTL_SECONDS)
    temperatures: list[TemperaturePair] = field(default_factory=list)

    @property
    def weeks(self) -> int:
        return -(-((self.last_day - self.first_day).days + 1) // 7)

    @property
    def sent(self) -> int:
        return sum(1 for e in self.evenings if e.sent)

    @property
    def delivered(self) -> int:
        return sum(1 for e in self.evenings if e.outcome == "delivered")

    @property
    def done(self) -> int:
        return sum(1 for e in self.evenings if e.done)

    @property
    def problem_rows(self) -> list[tuple[str, str, str]]:
        """(local date, what, follow-up) of the newest MAX_ROWS foot problems, in words: the
        page stays one page however often someone texted."""
        return [(_local_date(p.at, self.zone), p.category.replace("_", " "), p.outcome_words)
                for p in self.problems[-MAX_ROWS:]]

    @property
    def problems_left_out(self) -> int:
        return max(0, len(self.problems) - MAX_ROWS)

    @property
    def temperature_rows(self) -> list[TemperaturePair]:
        return self.temperatures[-MAX_ROWS:]

    @property
    def scores(self) -> list[tuple[date, int]]:
        return [(e.day, e.score) for e in self.evenings if e.score is not None]


CAUSES = {"diabetes": "diabetes", "cancer_treatment": "cancer treatment", "other": "other"}
CHANNELS = {"sms": "text message", "email": "email", "both": "text message and email"}
LANGUAGES = {"en": "English", "es": "Spanish"}


def preferences(sub: Subscriber) -> list[tuple[str, str]]:
    def yes(value: bool) -> str:
        return "yes" if value else "no"

    return [("Reminders by", CHANNELS.get(str(sub.channel), str(sub.channel))),
            ("Evening time", f"{sub.send_time.hour % 12 or 12}:{sub.send_time:%M} "
                             f"{'PM' if sub.send_time.hour >= 12 else 'AM'} "
                             f"({sub.timezone.rpartition('/')[2].replace('_', ' ')} time)"),
            ("Language", LANGUAGES.get(sub.language, sub.language)),
            ("Massage routines", yes(sub.massage_ok)),
            ("Warmth routines", yes(sub.heat_ok)),
            ("Cause of foot symptoms", CAUSES.get(sub.cause or "", "not given"))]




def _local_date(iso: str, zone: str) -> str:
    """The person's own date of an ISO 8601 UTC instant ("earlier" when unknown)."""
    try:
        moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return "earlier"
    return moment.astimezone(ZoneInfo(zone)).date().isoformat()
