"""When each evening's reminder is due, in UTC, from a local clock time and an IANA zone.

A local time that does not exist on a date (spring-forward gap) is sent at the same offset past
the gap, and one that happens twice (fall-back) is sent once, at the first: both are exactly what
PEP 495 gives for `fold=0`, so we build the local datetime with fold=0 and convert.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class SendInstant:
    local_date: date
    utc: datetime

    def local(self, tz: ZoneInfo) -> datetime:
        return self.utc.astimezone(tz)


def send_instant(local_date: date, send_time: time, tz: ZoneInfo) -> datetime:
    """The UTC instant of `send_time` on `local_date` in `tz` (fold=0 rules)."""
    local = datetime.combine(local_date, send_time, tzinfo=tz).replace(fold=0)
    return local.astimezone(UTC)


def next_send_after(send_time: time, tz: ZoneInfo, after: datetime) -> SendInstant:
    """The earliest evening instant strictly after `after` (an aware datetime)."""
    start = after.astimezone(tz).date() - timedelta(days=1)
    for offset in range(4):
        day = start + timedelta(days=offset)
        instant = send_instant(day, send_time, tz)
        if instant > after:
            return SendInstant(day, instant)
    raise AssertionError("no send instant within four days")  # unreachable: one per day


def upcoming(send_time: time, tz: ZoneInfo, after: datetime, days: int) -> list[SendInstant]:
    """The next `days` instants after `after`, earliest first."""
    result: list[SendInstant] = []
    cursor = after
    for _ in range(days):
        nxt = next_send_after(send_time, tz, cursor)
        result.append(nxt)
        cursor = nxt.utc
    return result


def local_date_for_instant(instant: datetime, send_time: time, tz: ZoneInfo) -> date | None:
    """Which evening a due instant belongs to, or None if it is not one of this schedule's."""
    local_day = instant.astimezone(tz).date()
    for day in (local_day, local_day - timedelta(days=1)):
        if send_instant(day, send_time, tz) == instant:
            return day
    return None


def from_epoch(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)
