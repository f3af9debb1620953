"""Capacity forecast: can tonight's people be texted within the late limit at TWILIO_MPS?

Used by `reminders capacity`, the console's tonight page, and the dispatcher's periodic check
(which logs a WARNING and feeds /metrics' `reminders_capacity_at_risk`).

What is counted, and how honestly:
- People per minute come from the due index (its shards' scores, counted inside Redis 64
  shards per call: ~0.6 s of Redis time at a million people, about 2 ms at a time; records
  are not read). Without a date the window is the next 24 hours from the current
  minute, exactly as the dispatcher will find them; the backlog (people overdue, claimed, or
  handed to senders and not finished) counts as due in the first minute.
- With a date D, the window is the evening of D in the service's time zone (DEFAULT_TIMEZONE,
  else its fallback): 24 hours from noon of D there, which holds every evening time
  (16:00-23:00) of that zone and its neighbours. The due index only holds each person's *next*
  instant, so people are placed at the same UTC time of day as their next instant: a change
  of UTC offset (DST) between now and D moves them by an hour, and people paused for more than
  a day are not counted.
- Calls (people whose evening call is on: storage/voice_callers.py, each at their next
  instant) are their own queue at TWILIO_CPS, one slot per call; `at_risk` is either queue's.
  They are counted among the texts too (an upper bound, as for email-only people).
- Segments are an upper bound: SMS_MAX_SEGMENTS per person, the most the renderer ever sends
  (tonight's items decide the real count; rendering a million people to find out would take
  minutes). Email-only people are counted as texts too, for the same reason.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from reminders.domain.capacity import Forecast, MinuteDemand, MinuteLoad, drain, minute_floor
from reminders.domain.validation import InvalidInput
from reminders.settings import Settings
from reminders.storage import capacity_check, due_index, inflight, voice_callers
from reminders.storage.client import Client

__all__ = ["Forecast", "Limits", "MinuteLoad", "check", "forecast", "window"]

log = logging.getLogger(__name__)

DAY_MINUTES = 24 * 60
# The dispatcher checks at most this often (a forecast reads every due-index score).
CHECK_PERIOD_SECONDS = 600.0


@dataclass(frozen=True)
class Limits:
    """The settings a forecast depends on."""

    mps: float
    segments_per_person: int
    late_limit_minutes: int
    zone: str
    cps: float = 1.0  # TWILIO_CPS: the evening calls' own queue

    @classmethod
    def of(cls, settings: Settings) -> Limits:
        return cls(settings.twilio_mps, settings.sms_max_segments, settings.late_limit_minutes,
                   settings.fallback_timezone, settings.twilio_cps)


def forecast(client: Client, settings: Settings | Limits, day: date | None = None,
             now: datetime | None = None) -> Forecast:
    """The forecast for the next 24 hours (`day` None) or for the evening of `day`."""
    limits = settings if isinstance(settings, Limits) else Limits.of(settings)
    now = now or datetime.now(UTC)
    start = window(limits, day, now)
    first = int(start.timestamp())
    if day is None:
        before, counts = due_index.count_by_minute(client, first, DAY_MINUTES)
        counts[0] += before + due_index.claimed(client) + inflight.size(client)
    else:
        counts = _projected(client, first, int(minute_floor(now).timestamp()))
    demand = [MinuteDemand(start + timedelta(minutes=n), people,
                           people * limits.segments_per_person)
              for n, people in enumerate(counts) if people]
    texts = drain(demand, limits.mps, limits.late_limit_minutes)
    calls = drain(_calls(client, start, day is not None), limits.cps, limits.late_limit_minutes)
    return replace(texts, at_risk=texts.at_risk or calls.at_risk, calls=calls)


def _calls(client: Client, start: datetime, by_time_of_day: bool) -> list[MinuteDemand]:
    """The callers (storage/voice_callers.py) per minute of the window, at their next instant
    (with a date: at its UTC time of day, as _projected places everyone)."""
    counts = [0] * DAY_MINUTES
    first = int(start.timestamp())
    for instant in voice_callers.next_instants(client):
        minute = (int(instant) - first) // 60
        if by_time_of_day:
            minute %= DAY_MINUTES
        elif minute >= DAY_MINUTES:
            continue  # after the next 24 hours
        counts[max(minute, 0)] += 1  # overdue: the first minute
    return [MinuteDemand(start + timedelta(minutes=n), people, people)
            for n, people in enumerate(counts) if people]


def window(limits: Limits, day: date | None, now: datetime) -> datetime:
    """The first minute of the forecast (UTC); InvalidInput for a date already past."""
    if day is None:
        return minute_floor(now)
    zone = ZoneInfo(limits.zone)
    if day < now.astimezone(zone).date():
        raise InvalidInput(f"--date {day.isoformat()} is in the past; "
                           "the forecast reads the schedule ahead")
    return minute_floor(datetime.combine(day, time(12), zone))


def _projected(client: Client, first: int, now_minute: int) -> list[int]:
    """People per minute of the window starting at `first`, each placed at the UTC time of day
    of their next instant (taken from the day before now to the day after: one instant each)."""
    counts = [0] * DAY_MINUTES
    since = now_minute - DAY_MINUTES * 60
    _before, found = due_index.count_by_minute(client, since, 2 * DAY_MINUTES)
    for n, people in enumerate(found):
        if people:
            counts[((since + 60 * n - first) // 60) % DAY_MINUTES] += people
    return counts


def check(client: Client, limits: Limits, now: datetime,
          period_seconds: float = CHECK_PERIOD_SECONDS) -> capacity_check.CheckResult | None:
    """The dispatcher's periodic check: at most once per period across all dispatchers. Stores
    the verdict for /metrics and logs a WARNING when someone would be missed. None when another
    caller ran it within the period."""
    if not capacity_check.claim_refresh(client, period_seconds):
        return None
    result = forecast(client, limits, None, now)
    worst = result.worst
    verdict = capacity_check.CheckResult(
        result.at_risk, now.timestamp(), worst.minute_utc.timestamp() if worst else 0.0,
        worst.delay_seconds if worst else 0.0, result.people, due_index.size(client))
    capacity_check.store(client, verdict, period_seconds)
    if result.at_risk and worst is not None:
        risky = [m for m in result.minutes if m.at_risk]
        log.warning(
            "capacity at_risk people=%d first_late_minute=%s worst_minute=%s "
            "worst_delay_min=%.0f late_limit_min=%d mps=%g: raise TWILIO_MPS, add senders or "
            "spread send times (reminders capacity)",
            sum(m.people for m in risky), f"{risky[0].minute_utc:%Y-%m-%dT%H:%MZ}",
            f"{worst.minute_utc:%Y-%m-%dT%H:%MZ}", worst.delay_seconds / 60,
            limits.late_limit_minutes, limits.mps)
    return verdict
