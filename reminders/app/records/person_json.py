"""What `show` and `list` print about a subscriber (the contract's JSON shape)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from reminders.app.care import flags
from reminders.app.people import caregivers
from reminders.domain import channels
from reminders.domain.frequency import DEFAULT_DAYS, days_code
from reminders.domain.subscriber import Subscriber, now_iso
from reminders.storage.overview import Overview
from reminders.storage.subscribers import Store

HISTORY_DAYS = 45
T = TypeVar("T")


def iso_z(moment: datetime) -> str:
    return now_iso(moment.astimezone(UTC))


def _history_days(sub: Subscriber, now: datetime) -> list[date]:
    today = now.astimezone(ZoneInfo(sub.timezone)).date() + timedelta(days=1)
    return [today - timedelta(days=n) for n in range(HISTORY_DAYS)]


def _summary(found: Overview) -> dict[str, Any] | None:
    """The last evening with a final state: its first channel's outcome."""
    record = found.last_record
    for channel in channels.names() if found.last_final else ():
        state = record.get(channel)
        if state and state not in ("sending", "retry"):
            status = record.get(f"{channel}_status") if state == "sent" else state
            return {
                "date": str(found.last_final), "channel": channel,
                "status": status or state, "error_code": record.get(f"{channel}_error") or None,
            }
    return None


def describe(store: Store, sub: Subscriber, now: datetime | None = None) -> dict[str, Any]:
    return next(describe_all(store, [sub], now))


def describe_all(store: Store, subs: Iterable[Subscriber], now: datetime | None = None,
                 batch: int = 500) -> Iterator[dict[str, Any]]:
    """What show/list print for each person; a batch of people per pipelined round trip, each
    one's last delivery found in Redis (storage/overview.py) rather than by reading 45 nights."""
    now = now or datetime.now(UTC)
    for chunk in chunked(subs, batch):
        found = store.overview.read([(sub.id, _history_days(sub, now)) for sub in chunk])
        for sub, seen in zip(chunk, found, strict=True):
            info = _described(sub, seen.next_due, _summary(seen))
            info["flags"] = seen.reports if flags.is_open(sub, now) else []
            info["caregiver"] = caregivers.describe(seen.link)
            info["weekly"] = sub.weekly_ok
            yield info


def chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Lists of `size` items (the last one shorter), as itertools.batched does from 3.12."""
    chunk: list[T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _described(sub: Subscriber, nxt: datetime | None, last: dict[str, Any] | None
               ) -> dict[str, Any]:
    return {
        "id": sub.id,
        "phone": sub.phone,
        "email": sub.email,
        "name": sub.name,
        "timezone": sub.timezone,
        "time": sub.send_time.strftime("%H:%M"),
        "channel": sub.channel,
        "channels": channels.ordered(sub.channels),
        "sms_status": sub.sms_status,
        "email_status": sub.email_status,
        "paused_until": sub.paused_until.isoformat() if sub.paused_until else None,
        "heat_ok": sub.heat_ok,
        "massage_ok": sub.massage_ok,
        "next_send_utc": iso_z(nxt) if nxt else None,
        "last_delivery": last,
        "streak": sub.streak,
        "language": sub.language,
        "cause": sub.cause,
        "frequency": sub.frequency,
        "routine_days": days_code(sub.routine_days or DEFAULT_DAYS),
        "temp_monitoring": sub.temp_monitoring,
    }
