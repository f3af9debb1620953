"""Foot problems people report by text (red flags): record, list and clear them.

Owns `keys.flags(id)` (a person's open reports) and `keys.FLAGS_OPEN` (who has one, oldest
first). The restriction itself, "no massage and no heat until this evening", is the subscriber's
`flag_until`, written through Store.save with a line in the consent/audit log, so the nightly
text never depends on these lists. A flag closes when an operator clears it (after calling the
person) or when FLAG_EVENINGS evenings have passed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import redis

from reminders.domain.subscriber import Subscriber, now_iso
from reminders.storage import keys
from reminders.storage.subscribers import ConsentEvent, Store

# Reports kept per person while open (a worried person may text several times).
MAX_REPORTS = 20


@dataclass(frozen=True)
class OpenFlag:
    subscriber: Subscriber
    reports: list[dict[str, str]]  # [{"at", "category", "text"}], oldest first

    @property
    def oldest(self) -> str:
        return self.reports[0]["at"] if self.reports else ""


def record(store: Store, sub: Subscriber, category: str, words: str, evening: date,
           now: datetime) -> Subscriber:
    """Open (or extend) a flag: from `evening` on, FLAG_EVENINGS more evenings without massage
    or heat, the report listed for follow-up, and counted for /metrics."""
    until = evening + timedelta(days=keys.FLAG_EVENINGS)
    if sub.flag_until is not None and sub.flag_until > until:
        until = sub.flag_until
    after = store.save(sub, sub.with_changes(flag_until=until),
                       [ConsentEvent("sms", f"flag:{category}", "sms", words)], now)
    entry = json.dumps({"at": now_iso(now), "category": category, "text": words[:160]})
    key = keys.flags(sub.id)
    with store.redis.pipeline() as pipe:
        pipe.rpush(key, entry)
        pipe.ltrim(key, -MAX_REPORTS, -1)
        pipe.expire(key, keys.FLAG_TTL_SECONDS)
        pipe.zadd(keys.FLAGS_OPEN, {sub.id: now.timestamp()}, nx=True)
        pipe.hincrby(keys.METRICS, f"flag:{category}", 1)
        pipe.execute()
    return after


def reports(client: redis.Redis, sub: Subscriber, now: datetime) -> list[dict[str, str]]:
    """The person's open reports, oldest first; [] once cleared or past its evenings."""
    if not is_open(sub, now):
        return []
    raw: list[bytes] = client.lrange(keys.flags(sub.id), 0, -1)  # type: ignore[assignment]
    return decoded(sub, raw, now)


def read_in(pipe: redis.client.Pipeline, subscriber_id: str) -> None:
    """Queue the read of a person's reports in a caller's pipeline (show/list, batched)."""
    pipe.lrange(keys.flags(subscriber_id), 0, -1)


def decoded(sub: Subscriber, raw: list[bytes], now: datetime) -> list[dict[str, str]]:
    return [json.loads(item) for item in raw] if is_open(sub, now) else []


def is_open(sub: Subscriber, now: datetime) -> bool:
    if sub.flag_until is None:
        return False
    return sub.flag_open_on(now.astimezone(ZoneInfo(sub.timezone)).date())


def all_open(store: Store, now: datetime) -> list[OpenFlag]:
    """Everyone with an open flag, the longest waiting first (for the people who call back)."""
    ids: list[bytes] = store.redis.zrange(keys.FLAGS_OPEN, 0, -1)  # type: ignore[assignment]
    found = []
    for raw_id in ids:
        sub = store.get(raw_id.decode())
        if sub is None:
            continue
        open_reports = reports(store.redis, sub, now)
        if open_reports:
            found.append(OpenFlag(sub, open_reports))
    return found


def clear(store: Store, sub: Subscriber, note: str, by: str, now: datetime) -> Subscriber:
    """Close the person's flag: massage and heat come back as their own settings allow."""
    words = f"{by}: {note}" if note else by
    after = store.save(sub, sub.with_changes(flag_until=None),
                       [ConsentEvent("sms", "flag_cleared", "cli", words)], now)
    with store.redis.pipeline() as pipe:
        pipe.delete(keys.flags(sub.id))
        pipe.zrem(keys.FLAGS_OPEN, sub.id)
        pipe.execute()
    return after


def forget(client: redis.Redis, subscriber_id: str) -> None:
    with client.pipeline() as pipe:
        pipe.delete(keys.flags(subscriber_id))
        pipe.zrem(keys.FLAGS_OPEN, subscriber_id)
        pipe.execute()
