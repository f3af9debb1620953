"""What `show` and `list` print about a subscriber (the contract's JSON shape)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import redis

from reminders import keys
from reminders.store import Store
from reminders.subscribers import Subscriber

HISTORY_DAYS = 45


def iso_z(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def last_delivery(client: redis.Redis, sub: Subscriber, now: datetime) -> dict[str, Any] | None:
    """The most recent night with a record, newest first (one pipelined round trip)."""
    today = now.astimezone(ZoneInfo(sub.timezone)).date() + timedelta(days=1)
    days = [today - timedelta(days=n) for n in range(HISTORY_DAYS)]
    with client.pipeline(transaction=False) as pipe:
        for day in days:
            pipe.hgetall(keys.night(sub.id, day))
        records = pipe.execute()
    for day, raw in zip(days, records, strict=True):
        record = {k.decode(): v.decode() for k, v in raw.items()}
        for channel in ("sms", "email"):
            state = record.get(channel)
            if state and state not in ("sending", "retry"):
                status = record.get(f"{channel}_status") if state == "sent" else state
                return {
                    "date": day.isoformat(), "channel": channel, "status": status or state,
                    "error_code": record.get(f"{channel}_error") or None,
                }
    return None


def describe(store: Store, sub: Subscriber, now: datetime | None = None) -> dict[str, Any]:
    now = now or datetime.now(UTC)
    nxt = store.next_due(sub.id)
    return {
        "id": sub.id,
        "phone": sub.phone,
        "email": sub.email,
        "name": sub.name,
        "timezone": sub.timezone,
        "time": sub.send_time.strftime("%H:%M"),
        "channel": sub.channel,
        "sms_status": sub.sms_status,
        "email_status": sub.email_status,
        "paused_until": sub.paused_until.isoformat() if sub.paused_until else None,
        "heat_ok": sub.heat_ok,
        "massage_ok": sub.massage_ok,
        "next_send_utc": iso_z(nxt) if nxt else None,
        "last_delivery": last_delivery(store.redis, sub, now),
        "streak": sub.streak,
    }
