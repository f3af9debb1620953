"""The consent and audit log: one Redis stream for everyone, indexed per person, trimmed by age.

Every event is appended to the stream `keys.CONSENT_LOG` (what an audit export reads, in time
order), and its entry id to the person's own index: the field `cl` of their subscriber hash
holds their newest ids (space-separated, at most INDEX_FIELD_BUDGET bytes, so the hash stays
a small listpack), older ones move to a list of their own (keys.consent_overflow), which most
people, with a handful of events, never need. `show` and `forget` read the person's ids and
then only those entries, never the whole stream: they cost the same with 200 or 2,000,000
entries in the log.

Retention: each append also trims the stream (XADD MINID ~) of entries older than
CONSENT_RETENTION, and drops the writer's own index entries older than that. Five years covers
the four-year US statute of limitations for TCPA claims (28 U.S.C. 1658) with a year's margin,
which is what a carrier or CTIA audit of opt-in and opt-out records asks for.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import redis

from reminders.domain.subscriber import now_iso
from reminders.storage import codec, keys
from reminders.storage.lua import script as lua_script

CONSENT_RETENTION = timedelta(days=5 * 365 + 2)  # five years, leap days included
INDEX_FIELD = "cl"  # in the subscriber hash: the person's newest consent-log entry ids
# Redis keeps a hash compact (listpack) while every value is at most hash-max-listpack-value
# (64 bytes by default): four ids of 15 characters and their spaces.
INDEX_FIELD_BUDGET = 64

# Stored field names (short, always all of them in this order, so that a stream node keeps
# the names once in its master entry) -> the names history() gives them. The time is the
# stream entry id (milliseconds): no field of its own.
# `v`: the version of the text we sent with that change (a confirmation, an invitation), as
# "<template>@<digest of its source>"; "" when we sent none (or before it was recorded).
CONSENT_FIELDS = {"s": "sub", "c": "channel", "a": "action", "o": "source", "w": "words",
                  "v": "version"}


@dataclass(frozen=True)
class ConsentEvent:
    """One line of the append-only consent and audit log."""

    channel: str  # sms | email
    action: str  # subscribed, confirmed, opted_out, opted_in, unsubscribed, invalid, ...
    source: str  # cli, sms, email, import, provider
    words: str = ""
    version: str = ""  # the text we sent with it (see CONSENT_FIELDS)

    def fields(self, subscriber_id: str) -> dict[str, str]:
        """The stream entry's fields (its id, given by Redis, records the time)."""
        return {"s": subscriber_id, "c": self.channel, "a": self.action, "o": self.source,
                "w": self.words[:160], "v": self.version}

    def args(self, subscriber_id: str) -> list[str]:
        return list(self.fields(subscriber_id).values())


def cutoff_ms() -> int:
    """Entries older than this (a stream id's millisecond part) are past the retention.

    The stream's ids come from the Redis clock, so the cutoff uses the real clock too, never
    the `now` a caller may pass for scheduling.
    """
    return int((time.time() - CONSENT_RETENTION.total_seconds()) * 1000)


def record(client: redis.Redis | redis.client.Pipeline, subscriber_id: str,
           event: ConsentEvent) -> Any:
    """Append `event` (in a pipeline: queued with the rest of the transaction)."""
    script = lua_script(client, "consent_record")
    return script(keys=[keys.CONSENT_LOG, *person_keys(subscriber_id), keys.CONSENT_INDEXED],
                  args=[*limits(), *event.args(subscriber_id)], client=client)


def person_keys(subscriber_id: str) -> list[str]:
    """The two keys a person's index lives in: their subscriber hash, their overflow list."""
    return [keys.subscriber(subscriber_id), keys.consent_overflow(subscriber_id)]


def limits() -> list[int]:
    """The arguments every indexing script takes after its own: cutoff (ms), field budget."""
    return [cutoff_ms(), INDEX_FIELD_BUDGET]


def record_unindexed(client: redis.Redis | redis.client.Pipeline, event: ConsentEvent) -> None:
    """An event about nobody in particular (a person forgotten): trimmed like the rest."""
    client.xadd(keys.CONSENT_LOG, dict(zip(CONSENT_FIELDS, event.args(""), strict=True)),
                minid=cutoff_ms(), approximate=True)


def entry_ids(*parts: str | bytes | None) -> list[str]:
    """Entry ids, oldest first, from index parts (the hash field's text, overflow items)."""
    found = {eid for part in parts if part
             for eid in codec.text(part).split()}
    return sorted(found, key=lambda eid: tuple(int(p) for p in eid.split("-")))


def own_entries(client: redis.Redis | redis.client.Pipeline, subscriber_id: str) -> list[str]:
    """This person's entry ids (two commands, whatever the size of the log)."""
    record, overflow = person_keys(subscriber_id)
    field: Any = client.hget(record, INDEX_FIELD)
    older: Any = client.lrange(overflow, 0, -1)
    return entry_ids(field, *older)


def history(client: redis.Redis, subscriber_id: str) -> list[dict[str, str]]:
    """This person's consent events, oldest first: only their own entries are read.

    Each is {"sub", "channel", "action", "source", "words", "at"}; "at" (ISO 8601, UTC, to
    the second) comes from the stream entry id.
    """
    ids = own_entries(client, subscriber_id)
    with client.pipeline(transaction=False) as pipe:
        for eid in ids:
            pipe.xrange(keys.CONSENT_LOG, eid, eid)
        found = pipe.execute()
    return [_event(eid, entries[0][1]) for eid, entries in zip(ids, found, strict=True)
            if entries]  # an empty answer: trimmed by the retention


def build_index(client: redis.Redis, page: int = 1000) -> int:
    """Index every entry written before the per-person index existed (once; idempotent).

    Reads the stream a page at a time (never one long XRANGE that blocks Redis); returns how
    many entries it added to someone's index.
    """
    # Nothing to do (and nothing written: a command refused for bad input changes nothing)
    # when this code started the log (record_consent set the flag) or there is no log yet.
    if client.get(keys.CONSENT_INDEXED) or not client.exists(keys.CONSENT_LOG):
        return 0
    script = lua_script(client, "consent_index")
    added, start = 0, "-"
    while True:
        entries: Any = client.xrange(keys.CONSENT_LOG, start, "+", count=page)
        if not entries:
            break
        with client.pipeline(transaction=False) as pipe:
            for eid, fields in entries:
                subscriber_id = _decode(fields).get("s") or _decode(fields).get("sub")
                if subscriber_id:
                    script(keys=person_keys(subscriber_id), args=[eid, *limits()], client=pipe)
            added += sum(int(n) for n in pipe.execute())
        last = codec.text(entries[-1][0])
        start = "(" + last
    client.set(keys.CONSENT_INDEXED, "1")
    return added


def _event(entry_id: str, raw: dict) -> dict[str, str]:
    """A consent-log entry with its long field names and its time (from the entry id)."""
    event = {CONSENT_FIELDS.get(name, name): value for name, value in _decode(raw).items()}
    if "at" not in event:  # older entries carry their own "at"
        millis = int(entry_id.partition("-")[0])
        event["at"] = now_iso(datetime.fromtimestamp(millis / 1000, tz=UTC))
    return event


def _decode(raw: dict) -> dict[str, str]:
    return codec.text_hash(raw)


def export(client: redis.Redis, since_ms: int = 0, page: int = 1000
           ) -> Iterator[tuple[str, dict[str, str]]]:
    """Every event from `since_ms` on, oldest first, as (entry id, event): read a page at a
    time (XRANGE ... COUNT), so a log of millions never sits in memory or blocks Redis."""
    start = f"{since_ms}-0"
    while True:
        entries: Any = client.xrange(keys.CONSENT_LOG, start, "+", count=page)
        if not entries:
            return
        for eid, fields in entries:
            entry_id = codec.text(eid)
            yield entry_id, _event(entry_id, fields)
        start = "(" + codec.text(entries[-1][0])


def delete_in(pipe: redis.client.Pipeline, entry_ids: list[str]) -> None:
    """Queue the deletion of these entries (a person's own, when they are forgotten)."""
    if entry_ids:
        pipe.xdel(keys.CONSENT_LOG, *entry_ids)
