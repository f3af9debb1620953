"""The capacity forecast's arithmetic, pure: a single queue drained at TWILIO_MPS segments/s.

Input: for each minute, how many people are due and how many SMS segments they need. The
dispatcher hands a minute's people out at the start of that minute, and the shared rate limiter
lets one text through whenever the budget allows (storage/lua/rate_acquire.lua books
`segments / mps` seconds per text), so the whole service behaves like one FIFO server of rate
`mps`: a minute starts sending when it begins or when the previous minutes' queue has drained,
whichever is later. The queue carries over from minute to minute.

Nobody is taken off the queue for being late here, although the service skips (and records as
missed) a text that is past its late limit: the forecast says how late the last one *would* be,
which is the honest answer to "how much more capacity do I need", and an upper bound otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta


@dataclass(frozen=True)
class MinuteDemand:
    """People due at `minute_utc` (the start of a UTC minute) and the segments they need."""

    minute_utc: datetime
    people: int
    segments: int


@dataclass(frozen=True)
class MinuteLoad:
    """One minute of the forecast.

    `last_out_utc`: when the last of this minute's texts is handed to the provider (its send
    starts); `delay_seconds`: that instant minus the minute; `at_risk`: the delay is longer than
    the late limit, so someone due this minute would be skipped and recorded as missed.
    """

    minute_utc: datetime
    people: int
    segments: int
    last_out_utc: datetime
    delay_seconds: float
    at_risk: bool


@dataclass(frozen=True)
class CarrierLoad:
    """One carrier's expected share of the forecast, against its own limits (US 10DLC).

    `segments`: its share of every segment due; `daily_cap`: segments a day it takes from us
    (None: no cap known); `mps`: its own rate (None: only TWILIO_MPS); `worst_delay_seconds`:
    how late the last of its texts would go out at the lower of the two rates; `at_risk`: over
    the cap, or later than the late limit."""

    carrier: str
    share: float
    segments: int
    daily_cap: float | None
    mps: float | None
    worst_delay_seconds: float
    over_cap: bool
    late: bool

    @property
    def at_risk(self) -> bool:
        return self.over_cap or self.late


@dataclass(frozen=True)
class Forecast:
    minutes: list[MinuteLoad]
    at_risk: bool  # someone would be missed, at TWILIO_MPS or on a carrier's own limit
    mps: float
    late_limit_minutes: int
    carriers: tuple[CarrierLoad, ...] = ()
    # The evening calls: their own queue at TWILIO_CPS (one "segment" per call); `at_risk`
    # above is either queue's.
    calls: Forecast | None = None

    @property
    def worst(self) -> MinuteLoad | None:
        """The minute whose last text goes out latest after its time (None: nobody due)."""
        return max(self.minutes, key=lambda m: m.delay_seconds, default=None)

    @property
    def people(self) -> int:
        return sum(m.people for m in self.minutes)

    @property
    def segments(self) -> int:
        return sum(m.segments for m in self.minutes)


def drain(demand: Iterable[MinuteDemand], mps: float, late_limit_minutes: int) -> Forecast:
    """Run the queue over `demand` (any order; minutes with nobody due are left out)."""
    if mps <= 0:
        raise ValueError("mps must be positive")
    limit = late_limit_minutes * 60
    free_at: datetime | None = None  # when the provider budget is free again
    loads = []
    for d in sorted((d for d in demand if d.people > 0), key=lambda d: d.minute_utc):
        start = d.minute_utc if free_at is None else max(d.minute_utc, free_at)
        # The last person's text starts when everyone else's segments have been paid for.
        per_person = d.segments / d.people
        last_out = start + timedelta(seconds=(d.segments - per_person) / mps)
        free_at = start + timedelta(seconds=d.segments / mps)
        delay = (last_out - d.minute_utc).total_seconds()
        loads.append(MinuteLoad(d.minute_utc, d.people, d.segments, last_out, delay,
                                delay > limit))
    return Forecast(loads, any(m.at_risk for m in loads), mps, late_limit_minutes)


def with_carriers(forecast: Forecast, mix: Iterable[tuple[str, float]],
                  daily_caps: Mapping[str, float], carrier_mps: Mapping[str, float]
                  ) -> Forecast:
    """The forecast with each carrier's share checked against its limits: the carrier's part
    of every minute (people and segments times its share) drained at the lower of its own rate
    and TWILIO_MPS, and its total against its daily cap. The window is 24 hours, so a daily cap
    compares with the whole forecast."""
    carriers = []
    limit = forecast.late_limit_minutes * 60
    for carrier, share in mix:
        segments = math.ceil(forecast.segments * share)
        rate = min(forecast.mps, carrier_mps.get(carrier, forecast.mps))
        part = drain([MinuteDemand(m.minute_utc, max(1, math.ceil(m.people * share)),
                                   max(1, math.ceil(m.segments * share)))
                      for m in forecast.minutes], rate, forecast.late_limit_minutes)
        worst = part.worst.delay_seconds if part.worst else 0.0
        cap = daily_caps.get(carrier)
        carriers.append(CarrierLoad(carrier, share, segments, cap, carrier_mps.get(carrier),
                                    worst, cap is not None and segments > cap,
                                    carrier in carrier_mps and worst > limit))
    return replace(forecast, carriers=tuple(carriers),
                   at_risk=forecast.at_risk or any(c.at_risk for c in carriers))


def minute_floor(instant: datetime) -> datetime:
    """The start of the UTC minute holding `instant`."""
    return instant.astimezone(UTC).replace(second=0, microsecond=0)
