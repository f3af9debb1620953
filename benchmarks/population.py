"""Many subscribers fast, stored exactly as `enrol()` stores them.

`enrol()` validates, WATCHes the indexes and runs one MULTI per person: right for the service,
slow for 100 000 people. Here the same `Subscriber` values go through the service's own writer
(`Store._write`: the hash from `to_hash`, the consent event, `Store._schedule` for the due index)
plus the phone index entry (a field of its bucket hash), in large non-transactional pipelines.
`verify_layout` proves on a sample that every key is byte-for-byte what `enrol()` writes (Redis
DUMP payloads compared).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import redis

from reminders.app.people.preferences import Enrolment, enrol
from reminders.app.records.person_json import chunked
from reminders.domain.schedule import send_instant
from reminders.domain.states import EmailStatus, SmsStatus
from reminders.domain.subscriber import Subscriber, now_iso
from reminders.entry.cli.runner import demo_zone
from reminders.settings import Settings
from reminders.storage import consent_log, due_index, keys
from reminders.storage.ids import ID_HIGH, ID_LOW
from reminders.storage.subscribers import ConsentEvent, Store

NAMES = ("Ana", "Robert", "Mei", "Olu", "Grace", "Dmitri", "Fatima", "Jose")
ZONE = "America/Chicago"
SEND_TIME = time(20, 30)


def phone(n: int) -> str:
    return f"+1312{2_000_000 + n:07d}"


def subscriber_id(n: int, salt: int = 0) -> str:
    # Same shape as new_subscriber_id() (9 decimal digits), but reproducible and collision-free
    # for one salt (a multiplier prime to 2, 3 and 5 is a bijection modulo 9 * 10**8).
    span = ID_HIGH - ID_LOW
    return str(ID_LOW + (n * 2654435761 + salt * 0x9E3779B97F) % span)


def make(n: int, now: datetime, zone: str = ZONE, send_time: time = SEND_TIME,
         salt: int = 0) -> Subscriber:
    """Subscriber number n, as enrol() builds it for `subscribe PHONE --name N --confirmed`."""
    return Subscriber(
        id=subscriber_id(n, salt), phone=phone(n), email=None, name=NAMES[n % len(NAMES)],
        timezone=zone, send_time=send_time, channels=frozenset({"sms"}),
        sms_status=SmsStatus.ACTIVE,
        email_status=EmailStatus.NONE, created_at=now_iso(now),
    )


def write(client: redis.Redis, subs: Iterable[Subscriber], now: datetime,
          batch: int = 2000) -> int:
    """Store subscribers as Store.create() does, without its per-person WATCH/MULTI."""
    store = Store(client)
    count = 0
    for chunk in chunked(subs, batch):
        with client.pipeline(transaction=False) as pipe:
            for sub in chunk:
                if sub.phone:
                    entry = keys.phone_index(sub.phone)
                    pipe.hset(entry.key, entry.field, sub.id)
                store._write(pipe, sub, [ConsentEvent("sms", "confirmed", "cli")], now)
            pipe.execute()
        count += len(chunk)
    return count


def verify_layout(enrol_db: redis.Redis, bulk_db: redis.Redis, settings: Settings,
                  now: datetime, sample: int = 25) -> str:
    """Enrol `sample` people through enrol() and through write(); compare every key's bytes."""
    enrol_db.flushdb()
    bulk_db.flushdb()
    store = Store(enrol_db)
    for n in range(sample):
        mine = make(n, now)
        real = enrol(store, settings, Enrolment(
            phone=mine.phone, name=mine.name, timezone=mine.timezone,
            time=mine.send_time.strftime("%H:%M"), confirmed=True), now)
        if dataclasses.replace(mine, id=real.id) != real:
            raise AssertionError(f"bulk subscriber differs from enrol(): {mine} != {real}")
        write(bulk_db, [real], now)
    _compare(enrol_db, bulk_db)
    enrol_db.flushdb()
    bulk_db.flushdb()
    return f"{sample} subscribers: every key's DUMP identical, due scores and consent events equal"


def _compare(a: redis.Redis, b: redis.Redis) -> None:
    names_a = sorted(a.scan_iter(count=1000))
    names_b = sorted(b.scan_iter(count=1000))
    if names_a != names_b:
        raise AssertionError(f"different keys: {names_a[:5]} vs {names_b[:5]}")
    for name in names_a:
        if name == keys.CONSENT_LOG.encode():
            strip = [fields for _id, fields in a.xrange(name) or []]
            if strip != [fields for _id, fields in b.xrange(name) or []]:
                raise AssertionError("consent events differ")
        elif name == keys.DUE_NEXT.encode() or name.startswith(keys.DUE_SHARD_PREFIX.encode()):
            if a.zrange(name, 0, -1, withscores=True) != b.zrange(name, 0, -1, withscores=True):
                raise AssertionError(f"{name!r}: due index differs")
        elif name.startswith(keys.subscriber("").encode()):
            # The consent-log index field names stream ids, which carry the time of writing.
            if _without_index(a, name) != _without_index(b, name):
                raise AssertionError(f"{name!r}: stored fields differ")
        elif a.dump(name) != b.dump(name):
            raise AssertionError(f"{name!r}: stored bytes differ")


def due_tonight(now: datetime) -> tuple[str, time, date, float]:
    """A zone where this minute is an allowed evening time: (zone, local time, date, instant)."""
    zone, local = demo_zone(now)
    tz = ZoneInfo(zone)
    evening = now.astimezone(tz).date()
    instant = send_instant(evening, local, tz)
    return zone, local, evening, instant.timestamp()


def crowd_due_now(client: redis.Redis, count: int, salt: int = 1, first: int = 0
                  ) -> tuple[list[str], date, float]:
    """`count` confirmed subscribers whose evening time is this minute (tests' due_now())."""
    now = datetime.now(UTC)
    zone, local, evening, instant = due_tonight(now)
    subs = [make(n, now, zone, local, salt) for n in range(first, first + count)]
    write(client, subs, now)
    ids = [s.id for s in subs]
    # As if enrolled yesterday: tonight's instant, which has just passed.
    set_scores(client, ids, instant)
    return ids, evening, instant


def set_scores(client: redis.Redis, ids: list[str], score: float) -> None:
    due_index.schedule_many(client, dict.fromkeys(ids, score))


def _without_index(client: redis.Redis, name: bytes) -> dict[Any, Any]:
    fields: dict[Any, Any] = dict(client.hgetall(name))
    count = len(fields.pop(consent_log.INDEX_FIELD.encode(), b"").split())
    return {**fields, b"(index entries)": count}
