"""Subscribers in Redis: a small hash each, phone/email indexes, due index, callers, consent log.

Every write touching several keys is one MULTI/EXEC (WATCHing the index buckets it relies on):
never half a record. An SMS opt-out is one Lua script: it must never lose a race (opt_out_sms)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import fields
from datetime import datetime
from zoneinfo import ZoneInfo

import redis

from reminders.domain.schedule import next_send_after
from reminders.domain.subscriber import Subscriber
from reminders.domain.validation import (
    InvalidInput,
)
from reminders.storage import codec, consent_log, due_index, keys, replicas, suppression, tally
from reminders.storage.consent_log import ConsentEvent as ConsentEvent
from reminders.storage.errors import AlreadySubscribed as AlreadySubscribed
from reminders.storage.errors import Contended as Contended
from reminders.storage.errors import IdTaken
from reminders.storage.errors import NotFound as NotFound
from reminders.storage.ids import new_subscriber_id as new_subscriber_id
from reminders.storage.ids import utcnow as utcnow
from reminders.storage.keys_counts import TALLY_STOP_WORDS
from reminders.storage.lua import script as lua_script
from reminders.storage.structures import Structures
from reminders.storage.subscriber_codec import from_hash, to_hash
from reminders.storage.subscriber_reads import Reads
from reminders.storage.voice_callers import forget_caller_in, sync_caller_in

SAVE_ATTEMPTS = 5
# A save that lost its WATCH race waits a little (random, growing): writers take turns.
MERGE_ATTEMPTS = 60
MERGE_BACKOFF_CAP = 0.05


class Store(Reads, Structures):
    """The subscribers' records: reads (subscriber_reads.py) and writes (here), and each
    other structure app/ uses, bound to the same client (structures.py)."""

    def __init__(self, client: redis.Redis) -> None:
        self.redis = client

    def create(
        self, sub: Subscriber, events: Sequence[ConsentEvent], now: datetime | None = None
    ) -> Subscriber:
        """Store a new subscriber; AlreadySubscribed if its phone or email is taken."""
        now = now or utcnow()
        for _attempt in range(SAVE_ATTEMPTS):
            try:
                created = self._create_once(sub, events, now)
            except redis.WatchError:
                continue  # an index bucket (this phone's or email's, or one sharing it) changed
            except IdTaken:
                sub = sub.with_changes(id=new_subscriber_id())  # a rare collision: draw again
                continue
            replicas.require(self.redis, "enrolment")
            return created
        raise InvalidInput("too many subscriptions at the same moment; try again")

    def _create_once(self, sub: Subscriber, events: Sequence[ConsentEvent], now: datetime
                     ) -> Subscriber:
        entries = _index_entries(sub)
        with self.redis.pipeline() as pipe:
            pipe.watch(keys.subscriber(sub.id), *sorted({entry.key for entry in entries}))
            if pipe.exists(keys.subscriber(sub.id)):
                raise IdTaken(sub.id)
            for entry in entries:
                if pipe.hexists(entry.key, entry.field):
                    raise AlreadySubscribed(f"{entry.field} is already subscribed")
            pipe.multi()
            for entry in entries:
                pipe.hset(entry.key, entry.field, sub.id)
            self._write(pipe, sub, events, now)
            pipe.execute()
        return sub

    def save(self, before: Subscriber, after: Subscriber, events: Sequence[ConsentEvent] = (),
             now: datetime | None = None) -> Subscriber:
        """Apply the changes from `before` to `after` atomically (record, indexes, schedule).

        Another process may have changed the record since `before` was read (a STOP arriving
        while a status callback marks the number invalid): only the fields this caller changed
        are applied on top of what is stored now, so neither change is lost.
        """
        now = now or utcnow()
        for attempt in range(MERGE_ATTEMPTS):
            try:
                saved = self._save_once(before, after, events, now)
            except redis.WatchError:
                # The record or an index changed under us: merge again, after a short pause.
                time.sleep(random.uniform(0, min(MERGE_BACKOFF_CAP, 0.001 * 2 ** attempt)))
                continue
            replicas.require(self.redis, "preferences")
            return saved
        raise Contended("the subscriber changed too often meanwhile; try again")

    def opt_out_sms(self, subscriber_id: str, event: ConsentEvent) -> str | None:
        """Opt the person out of SMS and record why, atomically; their SMS state before (None:
        no such subscriber). Never a WatchError: an opt-out cannot lose a race."""
        script = lua_script(self.redis, "subscriber_opt_out")
        before, replicated = replicas.write(self.redis, "opt-out", lambda target: script(
            keys=[*consent_log.person_keys(subscriber_id), keys.due_shard(subscriber_id),
                  keys.CONSENT_LOG, keys.CONSENT_INDEXED, keys.DUE, *tally.script_keys(),
                  keys.VOICE_CALLERS, TALLY_STOP_WORDS],
            args=[subscriber_id, *consent_log.limits(), *event.args(subscriber_id)[1:],
                  *tally.script_args(), tally.stop_word(event.words)],
            client=target))
        if not replicated:  # on the master only: "try again" (a 503); the retry is a no-op
            raise replicas.NotReplicated("opt-out: no replica acknowledged it in time")
        return codec.text(before) if before is not None else None

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
            sync_caller_in(pipe, merged)
            self._write(pipe, merged, events, now)
            pipe.execute()
        return merged

    def delete(self, sub: Subscriber, suppress: bool,
               also: Callable[[redis.client.Pipeline], None] | None = None) -> None:
        """Erase a subscriber: record, indexes, schedule, claims and their consent-log entries;
        with `suppress`, keep only their opt-outs (hashed). `also` queues more in the same
        transaction (forget's night records). The consent log keeps one "forgotten" event
        naming nobody, timed by its entry id: when an erasure happened, for an audit."""
        for _attempt in range(MERGE_ATTEMPTS):
            try:
                return self._delete_once(sub, suppress, also)
            except redis.WatchError:
                time.sleep(random.uniform(0, MERGE_BACKOFF_CAP))  # changed meanwhile: again
        raise Contended("the subscriber changed too often meanwhile; try again")

    def _delete_once(self, sub: Subscriber, suppress: bool,
                     also: Callable[[redis.client.Pipeline], None] | None) -> None:
        key, overflow = consent_log.person_keys(sub.id)
        with self.redis.pipeline() as pipe:
            pipe.watch(key, overflow)
            raw = decode(pipe.hgetall(key))
            current = from_hash(raw, sub.id) if raw else None  # None: already gone
            own_entries = consent_log.own_entries(pipe, sub.id)
            pipe.multi()
            lua_script(self.redis, "subscriber_delete")(
                keys=[key, overflow, *tally.script_keys()],
                args=[sub.id, *tally.script_args()], client=pipe)
            for entry in _index_entries(current) if current else []:
                pipe.hdel(entry.key, entry.field)
            due_index.remove_in(pipe, sub.id)
            forget_caller_in(pipe, sub.id)
            consent_log.delete_in(pipe, own_entries)
            if suppress and current:
                suppression.add(pipe, current.phone if current.sms_status == "opted_out" else None,
                                current.email if current.email_status == "unsubscribed" else None)
            if also is not None:
                also(pipe)
            consent_log.record_unindexed(pipe, ConsentEvent("", "forgotten", ""))
            pipe.execute()

    def reschedule(self, sub: Subscriber, now: datetime | None = None) -> datetime | None:
        """Put the subscriber in the due index at their next evening (or take them out)."""
        with self.redis.pipeline() as pipe:
            pipe.multi()
            nxt = self._schedule(pipe, sub, now or utcnow())
            pipe.execute()
        return nxt

    def _write(self, pipe: redis.client.Pipeline, sub: Subscriber,
               events: Sequence[ConsentEvent], now: datetime) -> None:
        replace = lua_script(self.redis, "subscriber_replace")
        replace(keys=[keys.subscriber(sub.id), *tally.script_keys()],
                args=[sub.id, *tally.script_args(),
                      *(item for pair in to_hash(sub).items() for item in pair)], client=pipe)
        for event in events:
            consent_log.record(pipe, sub.id, event)
        self._schedule(pipe, sub, now)

    @staticmethod
    def _schedule(pipe: redis.client.Pipeline, sub: Subscriber, now: datetime) -> datetime | None:
        if not sub.schedulable:
            due_index.schedule_in(pipe, sub.id, None)
            return None
        nxt = next_send_after(sub.send_time, ZoneInfo(sub.timezone), now)
        due_index.schedule_in(pipe, sub.id, nxt.utc.timestamp())
        return nxt.utc


def _merge(before: Subscriber, after: Subscriber, current: Subscriber) -> Subscriber:
    """`current` with the fields the caller changed (before -> after) applied on top."""
    changed = {f.name: getattr(after, f.name) for f in fields(Subscriber)
               if getattr(after, f.name) != getattr(before, f.name)}
    return current.with_changes(**changed)


def _index_entries(sub: Subscriber) -> list[keys.IndexEntry]:
    return ([keys.phone_index(sub.phone)] if sub.phone else []) + (
        [keys.email_index(sub.email)] if sub.email else [])


decode = codec.text_hash
