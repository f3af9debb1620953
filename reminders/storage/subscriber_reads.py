"""Reading subscriber records (the read half of subscribers.Store): by id, by phone or email,
many in one round trip, or everyone a SCAN page at a time; damaged records come back as
Undecodable (for guards.py), never as raw bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from reminders.domain.subscriber import DECODE_ERRORS, Subscriber
from reminders.domain.validation import looks_like_email, normalise_email, normalise_phone
from reminders.storage import codec, consent_log, due_index, keys, suppression
from reminders.storage.client import Client
from reminders.storage.errors import NotFound
from reminders.storage.subscriber_codec import Undecodable, from_hash, person_or_problem

decode = codec.text_hash


class Reads:
    """Mixed into subscribers.Store (which sets `redis`)."""

    redis: Client

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
        return codec.text(value) if value is not None else None

    def read(self, subscriber_id: str) -> Subscriber | Undecodable | None:
        """The person; None when forgotten, Undecodable (never an error) when damaged."""
        raw: Any = self.redis.hgetall(keys.subscriber(subscriber_id))
        return person_or_problem(raw, subscriber_id)

    def read_many(self, subscriber_ids: Sequence[str]) -> list[Subscriber | Undecodable | None]:
        """`read` for many people in one round trip."""
        with self.redis.pipeline(transaction=False) as pipe:
            for subscriber_id in subscriber_ids:
                pipe.hgetall(keys.subscriber(subscriber_id))
            found = pipe.execute()
        return [person_or_problem(raw, sid)
                for sid, raw in zip(subscriber_ids, found, strict=True)]

    def exist_many(self, subscriber_ids: Sequence[str]) -> list[bool]:
        """Whether each person is still stored, in one round trip (nothing decoded)."""
        with self.redis.pipeline(transaction=False) as pipe:
            for subscriber_id in subscriber_ids:
                pipe.exists(keys.subscriber(subscriber_id))
            return [bool(found) for found in pipe.execute()]

    def find(self, handle: str) -> Subscriber | None:
        return self.get(sid) if (sid := self.id_for(handle)) else None

    def require(self, handle: str) -> Subscriber:
        if (sub := self.find(handle)) is None:
            raise NotFound(f"no subscriber with {handle.strip()!r}")
        return sub

    def all(self, batch: int = 1000, unreadable: list[str] | None = None
            ) -> Iterator[Subscriber]:
        """Every subscriber, a SCAN page per trip; with `unreadable`, undecodable ids go there."""
        for name, raw in self._scan(batch, lambda pipe, name: pipe.hgetall(name)):
            if not raw:  # forgotten between the SCAN and the read
                continue
            try:
                sub = from_hash(decode(raw), keys.subscriber_id_of(name))
            except DECODE_ERRORS:
                if unreadable is None:
                    raise
                unreadable.append(keys.subscriber_id_of(name))
            else:
                yield sub

    def _scan(self, batch: int, read: Callable[[Any, Any], Any]) -> Iterator[tuple[bytes, Any]]:
        """(key, what `read` queued for it) of each subscriber hash, a SCAN page per trip."""
        cursor = None
        while cursor != 0:
            cursor, names = self.redis.scan(cursor or 0, match=keys.subscriber_pattern(),
                                            count=batch)
            with self.redis.pipeline(transaction=False) as pipe:
                for name in names:
                    read(pipe, name)
                yield from zip(names, pipe.execute(), strict=True)

    def records(self, batch: int = 1000
                ) -> Iterator[tuple[str, Subscriber | Undecodable | None]]:
        """(id, `read`) of everyone, a SCAN page per trip (the recount)."""
        for name, raw in self._scan(batch, lambda pipe, name: pipe.hgetall(name)):
            sid = keys.subscriber_id_of(name)
            yield sid, person_or_problem(raw, sid)

    def next_due(self, subscriber_id: str) -> datetime | None:
        score = due_index.next_due(self.redis, subscriber_id)
        return datetime.fromtimestamp(score, tz=UTC) if score is not None else None

    def consent_history(self, subscriber_id: str) -> list[dict[str, str]]:
        """This person's consent events, oldest first (read through their own index)."""
        return consent_log.history(self.redis, subscriber_id)

    def is_suppressed_phone(self, e164: str) -> bool:
        return suppression.is_suppressed(self.redis, phone=e164)

    def is_suppressed_email(self, address: str) -> bool:
        return suppression.is_suppressed(self.redis, email=address)
