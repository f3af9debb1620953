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

from reminders.domain.capacity import (
    CarrierLoad,
    Forecast,
    MinuteDemand,
    MinuteLoad,
    drain,
    minute_floor,
    with_carriers,
)
from reminders.domain.validation import InvalidInput
from reminders.settings import Settings
from reminders.storage import capacity_check
from reminders.storage.capacity_check import DueLoad
from reminders.storage.subscribers import Store

__all__ = ["CarrierLoad", "DueLoad", "Forecast", "Limits", "MinuteLoad", "check", "due_load",
           "forecast", "window"]

log = logging.getLogger(__name__)

DAY_MINUTES = 24 * 60
# The dispatcher checks at most this often (a forecast reads every due-index score).
CHECK_PERIOD_SECONDS = 600.0
# A count of the due index covers the current hour and the next 25: any 24 hours from now.
LOAD_MINUTES = 26 * 60


@dataclass(frozen=True)
class Limits:
    """The settings a forecast depends on."""

    mps: float
    segments_per_person: int
    late_limit_minutes: int
    zone: str
    # US 10DLC carrier limits (Settings.carrier_*): checked on each carrier's share.
    carrier_mix: tuple[tuple[str, float], ...] = ()
    carrier_daily_caps: tuple[tuple[str, float], ...] = ()
    carrier_mps: tuple[tuple[str, float], ...] = ()
    cps: float = 1.0  # TWILIO_CPS: the evening calls' own queue

    @classmethod
    def of(cls, settings: Settings) -> Limits:
        return cls(settings.twilio_mps, settings.sms_max_segments, settings.late_limit_minutes,
                   settings.fallback_timezone, settings.carrier_mix,
                   settings.carrier_daily_caps, settings.carrier_mps, settings.twilio_cps)


def forecast(store: Store, settings: Settings | Limits, day: date | None = None,
             now: datetime | None = None, load: DueLoad | None = None) -> Forecast:
    """The forecast for the next 24 hours (`day` None: from `load` when given, else counted
    now) or for the evening of `day`."""
    limits = settings if isinstance(settings, Limits) else Limits.of(settings)
    now = now or datetime.now(UTC)
    start = window(limits, day, now)
    first = int(start.timestamp())
    if day is None:
        counts = from_load(load or due_load(store, now), first)
    else:
        counts = _projected(store, first, int(minute_floor(now).timestamp()))
    demand = [MinuteDemand(start + timedelta(minutes=n), people,
                           people * limits.segments_per_person)
              for n, people in enumerate(counts) if people]
    texts = with_carriers(drain(demand, limits.mps, limits.late_limit_minutes),
                          limits.carrier_mix, dict(limits.carrier_daily_caps),
                          dict(limits.carrier_mps))
    calls = drain(_calls(store, start, day is not None), limits.cps, limits.late_limit_minutes)
    return replace(texts, at_risk=texts.at_risk or calls.at_risk, calls=calls)


def due_load(store: Store, now: datetime, max_age: float = 0.0, keep: bool = True
             ) -> DueLoad:
    """People due per minute for LOAD_MINUTES from the current hour's start: the last count
    when it is at most `max_age` seconds old (the console), else counted now (every shard
    read inside Redis) and, with `keep`, kept for the next reader (the dispatcher's check and
    `reminders capacity` keep it; a console page, a GET, writes nothing)."""
    hour = int(now.astimezone(UTC).replace(minute=0, second=0, microsecond=0).timestamp())
    if max_age > 0 and (last := store.capacity_check.last_load()) is not None and (
            0 <= now.timestamp() - last.counted_at <= max_age):
        return last
    before, counts = store.due.count_by_minute(hour, LOAD_MINUTES)
    load = DueLoad(now.timestamp(), hour,
                   before + store.due.claimed() + store.inflight.size(), counts)
    if keep:
        store.capacity_check.store_load(load, CHECK_PERIOD_SECONDS * capacity_check.KEEP_PERIODS)
    return load


def from_load(load: DueLoad, first: int) -> list[int]:
    """DAY_MINUTES of people due from minute `first`; the backlog (and, in a count made this
    minute, the people due earlier in the hour: overdue, not claimed) in the first minute. An
    older count's earlier minutes are left out: the dispatcher has handed those people out."""
    shift = max(0, (first - load.first) // 60)
    counts = (load.counts[shift:shift + DAY_MINUTES] + [0] * DAY_MINUTES)[:DAY_MINUTES]
    counts[0] += load.backlog
    if load.counted_at >= first:
        counts[0] += sum(load.counts[:shift])
    return counts


def _calls(store: Store, start: datetime, by_time_of_day: bool) -> list[MinuteDemand]:
    """The callers (storage/voice_callers.py) per minute of the window, at their next instant
    (with a date: at its UTC time of day, as _projected places everyone)."""
    counts = [0] * DAY_MINUTES
    first = int(start.timestamp())
    for instant in store.voice_callers.next_instants():
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


def _projected(store: Store, first: int, now_minute: int) -> list[int]:
    """People per minute of the window starting at `first`, each placed at the UTC time of day
    of their next instant (taken from the day before now to the day after: one instant each)."""
    counts = [0] * DAY_MINUTES
    since = now_minute - DAY_MINUTES * 60
    _before, found = store.due.count_by_minute(since, 2 * DAY_MINUTES)
    for n, people in enumerate(found):
        if people:
            counts[((since + 60 * n - first) // 60) % DAY_MINUTES] += people
    return counts


def check(store: Store, limits: Limits, now: datetime,
          period_seconds: float = CHECK_PERIOD_SECONDS) -> capacity_check.CheckResult | None:
    """The dispatcher's periodic check: at most once per period across all dispatchers. Stores
    the verdict for /metrics and logs a WARNING when someone would be missed. None when another
    caller ran it within the period."""
    if not store.capacity_check.claim_refresh(period_seconds):
        return None
    result = forecast(store, limits, None, now)
    worst = result.worst
    verdict = capacity_check.CheckResult(
        result.at_risk, now.timestamp(), worst.minute_utc.timestamp() if worst else 0.0,
        worst.delay_seconds if worst else 0.0, result.people, store.due.size())
    store.capacity_check.store(verdict, period_seconds)
    risky = [m for m in result.minutes if m.at_risk]
    for carrier in (c for c in result.carriers if c.at_risk):
        log.warning("capacity at_risk carrier=%s segments=%d daily_cap=%s carrier_mps=%s "
                    "worst_delay_min=%.0f: ask the carrier for more (a vetted brand), or "
                    "spread the load (reminders capacity)", carrier.carrier, carrier.segments,
                    carrier.daily_cap, carrier.mps, carrier.worst_delay_seconds / 60)
    if risky and worst is not None:
        log.warning(
            "capacity at_risk people=%d first_late_minute=%s worst_minute=%s "
            "worst_delay_min=%.0f late_limit_min=%d mps=%g: raise TWILIO_MPS, add senders or "
            "spread send times (reminders capacity)",
            sum(m.people for m in risky), f"{risky[0].minute_utc:%Y-%m-%dT%H:%MZ}",
            f"{worst.minute_utc:%Y-%m-%dT%H:%MZ}", worst.delay_seconds / 60,
            limits.late_limit_minutes, limits.mps)
    return verdict
