"""Subscribers in Redis: one small hash each, phone/email indexes, the due index, consent log.

Every write that touches more than one key runs in one MULTI/EXEC transaction (with WATCH on the
index buckets it relies on), so a crash or a failed check never leaves half a record behind.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

import redis

from reminders.domain.schedule import next_send_after
from reminders.domain.subscriber import DECODE_ERRORS, Subscriber, from_hash, now_iso, to_hash
from reminders.domain.validation import (
    InvalidInput,
    looks_like_email,
    normalise_email,
    normalise_phone,
)
from reminders.storage import keys


class AlreadySubscribed(InvalidInput):
    """The phone or email already belongs to a subscriber."""


class NotFound(InvalidInput):
    """No subscriber has that phone or email."""


# Consent-log fields as stored (short, and always all of them in this order, so that a stream
# node keeps the names once in its master entry) -> the names consent_history() gives them.
# The time is the stream entry id (milliseconds): no field of its own.
CONSENT_FIELDS = {"s": "sub", "c": "channel", "a": "action", "o": "source", "w": "words"}


@dataclass(frozen=True)
class ConsentEvent:
    """One line of the append-only consent and audit log."""

    channel: str  # sms | email
    action: str  # subscribed, confirmed, opted_out, opted_in, unsubscribed, invalid, ...
    source: str  # cli, sms, email, import, provider
    words: str = ""

    def fields(self, subscriber_id: str) -> dict[str, str]:
        """The stream entry's fields (its id, given by Redis, records the time)."""
        return {"s": subscriber_id, "c": self.channel, "a": self.action, "o": self.source,
                "w": self.words[:160]}


SAVE_ATTEMPTS = 5


def new_subscriber_id() -> str:
    # Random, short and meaningless: it appears in logs instead of phone numbers.
    return secrets.token_hex(6)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Store:
    def __init__(self, client: redis.Redis) -> None:
        self.redis = client

    # -- reading -------------------------------------------------------------------------------
    def get(self, subscriber_id: str) -> Subscriber | None:
        raw = self.redis.hgetall(keys.subscriber(subscriber_id))
        return from_hash(decode(raw), subscriber_id) if raw else None

    def id_for(self, handle: str) -> str | None:
        """Subscriber id for a phone number or an email address (raises InvalidInput if neither)."""
        if looks_like_email(handle):
            entry = keys.email_index(normalise_email(handle))
        else:
            entry = keys.phone_index(normalise_phone(handle))
        value: Any = self.redis.hget(entry.key, entry.field)
        return value.decode() if isinstance(value, bytes) else value

    def raw(self, subscriber_id: str) -> dict[bytes, bytes]:
        """The stored hash as it is (for callers that decode it themselves, e.g. guards)."""
        return self.redis.hgetall(keys.subscriber(subscriber_id))  # type: ignore[return-value]

    def raw_many(self, subscriber_ids: Sequence[str]) -> list[dict[bytes, bytes]]:
        """The stored hashes of many people in one round trip ({} for the forgotten)."""
        with self.redis.pipeline(transaction=False) as pipe:
            for subscriber_id in subscriber_ids:
                pipe.hgetall(keys.subscriber(subscriber_id))
            return pipe.execute()

    def find(self, handle: str) -> Subscriber | None:
        subscriber_id = self.id_for(handle)
        return self.get(subscriber_id) if subscriber_id else None

    def require(self, handle: str) -> Subscriber:
        sub = self.find(handle)
        if sub is None:
            raise NotFound(f"no subscriber with {handle.strip()!r}")
        return sub

    def all(self, batch: int = 1000, unreadable: list[str] | None = None
            ) -> Iterator[Subscriber]:
        """Every subscriber, loaded a SCAN page at a time (one pipelined round trip each).

        With `unreadable`, a record that does not decode is listed there (its id) and skipped,
        instead of ending the iteration with its error.
        """
        cursor = None
        while cursor != 0:
            cursor, names = self.redis.scan(cursor or 0, match=keys.subscriber_pattern(),
                                            count=batch)
            with self.redis.pipeline(transaction=False) as pipe:
                for name in names:
                    pipe.hgetall(name)
                raws = pipe.execute()
            for name, raw in zip(names, raws, strict=True):
                if not raw:  # forgotten between the SCAN and the read
                    continue
                try:
                    sub = from_hash(decode(raw), keys.subscriber_id_of(name))
                except DECODE_ERRORS:
                    if unreadable is None:
                        raise
                    unreadable.append(keys.subscriber_id_of(name))
                    continue
                yield sub

    def next_due(self, subscriber_id: str) -> datetime | None:
        score = self.redis.zscore(keys.DUE, subscriber_id)
        return datetime.fromtimestamp(score, tz=UTC) if score is not None else None

    def consent_history(self, subscriber_id: str) -> list[dict[str, str]]:
        """This person's consent events, oldest first (a scan: only for show/forget).

        Each is {"sub", "channel", "action", "source", "words", "at"}; "at" (ISO 8601, UTC, to
        the second) comes from the stream entry id.
        """
        return [_event(eid, fields) for eid, fields in self._consent_entries()
                if _event_subscriber(fields) == subscriber_id]

    def _consent_entries(self) -> list[tuple[str, dict[str, str]]]:
        raw: Any = self.redis.xrange(keys.CONSENT_LOG)
        return [(eid.decode() if isinstance(eid, bytes) else eid, decode(fields))
                for eid, fields in raw or []]

    def is_suppressed_phone(self, e164: str) -> bool:
        return bool(self.redis.sismember(keys.SUPPRESSED_PHONES, e164))

    def is_suppressed_email(self, address: str) -> bool:
        return bool(self.redis.sismember(keys.SUPPRESSED_EMAILS, address.lower()))

    # -- writing -------------------------------------------------------------------------------
    def create(
        self, sub: Subscriber, events: Sequence[ConsentEvent], now: datetime | None = None
    ) -> Subscriber:
        """Store a new subscriber; AlreadySubscribed if its phone or email is taken."""
        now = now or utcnow()
        for _attempt in range(SAVE_ATTEMPTS):
            try:
                return self._create_once(sub, events, now)
            except redis.WatchError:
                # An index bucket changed meanwhile (this phone or email, or another one that
                # shares its bucket): check again.
                continue
        raise InvalidInput("too many subscriptions at the same moment; try again")

    def _create_once(self, sub: Subscriber, events: Sequence[ConsentEvent], now: datetime
                     ) -> Subscriber:
        entries = _index_entries(sub)
        with self.redis.pipeline() as pipe:
            pipe.watch(*sorted({entry.key for entry in entries}))
            for entry in entries:
                if pipe.hexists(entry.key, entry.field):
                    raise AlreadySubscribed(f"{entry.field} is already subscribed")
            pipe.multi()
            for entry in entries:
                pipe.hset(entry.key, entry.field, sub.id)
            self._write(pipe, sub, events, now)
            pipe.execute()
        return sub

    def save(
        self,
        before: Subscriber,
        after: Subscriber,
        events: Sequence[ConsentEvent] = (),
        now: datetime | None = None,
    ) -> Subscriber:
        """Apply the changes from `before` to `after` atomically (record, indexes, schedule).

        Another process may have changed the record since `before` was read (a STOP arriving
        while a status callback marks the number invalid): only the fields this caller changed
        are applied on top of what is stored now, so neither change is lost.
        """
        now = now or utcnow()
        for _attempt in range(SAVE_ATTEMPTS):
            try:
                return self._save_once(before, after, events, now)
            except redis.WatchError:
                continue  # the record or an index changed under us: merge again
        raise AlreadySubscribed("the subscriber changed too often meanwhile; try again")

    def _save_once(self, before: Subscriber, after: Subscriber,
                   events: Sequence[ConsentEvent], now: datetime) -> Subscriber:
        key = keys.subscriber(before.id)
        with self.redis.pipeline() as pipe:
            pipe.watch(key)
            raw = pipe.hgetall(key)
            if not raw:
                raise NotFound("the subscriber was removed meanwhile")
            current = from_hash(decode(raw), before.id)
            merged = after if current == before else _merge(before, after, current)
            old, new = set(_index_entries(current)), set(_index_entries(merged))
            added = sorted(new - old)
            if added:
                pipe.watch(*sorted({entry.key for entry in added}))
            for entry in added:
                if pipe.hexists(entry.key, entry.field):
                    raise AlreadySubscribed(f"{entry.field} is already subscribed")
            pipe.multi()
            for entry in sorted(old - new):
                pipe.hdel(entry.key, entry.field)
            for entry in added:
                pipe.hset(entry.key, entry.field, merged.id)
            self._write(pipe, merged, events, now)
            pipe.execute()
        return merged

    def delete(self, sub: Subscriber, suppress: bool) -> None:
        """Erase everything about a subscriber; with `suppress`, remember only the opt-outs.

        The "forgotten" event left in the consent log is timed by its stream entry id.
        """
        own_entries = [eid for eid, f in self._consent_entries()
                       if _event_subscriber(f) == sub.id]
        with self.redis.pipeline() as pipe:
            pipe.multi()
            pipe.delete(keys.subscriber(sub.id))
            for entry in _index_entries(sub):
                pipe.hdel(entry.key, entry.field)
            pipe.zrem(keys.DUE, sub.id)
            if sub.phone:  # the replies remembered against replayed webhooks
                pipe.delete(keys.inbound_seen(sub.phone))
            if own_entries:
                pipe.xdel(keys.CONSENT_LOG, *own_entries)
            if suppress and sub.phone and sub.sms_status == "opted_out":
                pipe.sadd(keys.SUPPRESSED_PHONES, sub.phone)
            if suppress and sub.email and sub.email_status == "unsubscribed":
                pipe.sadd(keys.SUPPRESSED_EMAILS, sub.email.lower())
            forgotten = ConsentEvent(channel="", action="forgotten", source="")
            pipe.xadd(keys.CONSENT_LOG, cast(Any, forgotten.fields(sub.id)))
            pipe.execute()

    def reschedule(self, sub: Subscriber, now: datetime | None = None) -> datetime | None:
        """Put the subscriber in the due index at their next evening (or take them out)."""
        with self.redis.pipeline() as pipe:
            pipe.multi()
            nxt = self._schedule(pipe, sub, now or utcnow())
            pipe.execute()
        return nxt

    def _write(
        self, pipe: redis.client.Pipeline, sub: Subscriber, events: Sequence[ConsentEvent],
        now: datetime,
    ) -> None:
        key = keys.subscriber(sub.id)
        pipe.delete(key)
        pipe.hset(key, mapping=cast(Any, to_hash(sub)))
        for event in events:
            pipe.xadd(keys.CONSENT_LOG, cast(Any, event.fields(sub.id)))
        self._schedule(pipe, sub, now)

    @staticmethod
    def _schedule(pipe: redis.client.Pipeline, sub: Subscriber, now: datetime) -> datetime | None:
        if not sub.schedulable:
            pipe.zrem(keys.DUE, sub.id)
            return None
        nxt = next_send_after(sub.send_time, ZoneInfo(sub.timezone), now)
        pipe.zadd(keys.DUE, {sub.id: nxt.utc.timestamp()})
        return nxt.utc


def _merge(before: Subscriber, after: Subscriber, current: Subscriber) -> Subscriber:
    """`current` with the fields the caller changed (before -> after) applied on top."""
    changed = {f.name: getattr(after, f.name) for f in fields(Subscriber)
               if getattr(after, f.name) != getattr(before, f.name)}
    return current.with_changes(**changed)


def _index_entries(sub: Subscriber) -> list[keys.IndexEntry]:
    found = []
    if sub.phone:
        found.append(keys.phone_index(sub.phone))
    if sub.email:
        found.append(keys.email_index(sub.email))
    return found


def _event_subscriber(fields: dict[str, str]) -> str | None:
    return fields.get("s") or fields.get("sub")


def _event(entry_id: str, fields: dict[str, str]) -> dict[str, str]:
    """A consent-log entry with its long field names and its time (from the entry id)."""
    event = {CONSENT_FIELDS.get(name, name): value for name, value in fields.items()}
    if "at" not in event:  # older entries carry their own "at"
        millis = int(entry_id.partition("-")[0])
        event["at"] = now_iso(datetime.fromtimestamp(millis / 1000, tz=UTC))
    return event


def decode(raw: dict) -> dict[str, str]:
    return {
        (k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
        for k, v in raw.items()
    }
