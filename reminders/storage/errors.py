"""What storage/ raises when a write cannot be made, and the small helpers records are made with."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

import redis

from reminders.domain.validation import InvalidInput


class AlreadySubscribed(InvalidInput):
    """The phone or email already belongs to a subscriber."""


class NotFound(InvalidInput):
    """No subscriber has that phone or email."""


class IdTaken(Exception):
    """A new subscriber's random id belongs to someone already (Store.create draws another)."""


class Contended(redis.RedisError):
    """The record kept changing under a save, however long it waited: try again later.

    A storage condition, not bad input: the webhook answers 503 (so the provider retries)
    rather than pretending the change was made.
    """


# Subscriber ids: random, short and meaningless (they appear in logs instead of phone numbers).
# Nine decimal digits, so that Redis stores an id as an integer, 5 bytes instead of 13, in every
# structure that lists people (due shards, phone index, consent log): ~24 bytes a subscriber.
# Nine digits are a valid phone number nowhere the log masker looks (tests/test_logs.py). The
# space is small enough to collide: Store.create checks, and draws again. Ids of earlier
# versions (12 hex digits) stay valid: an id is only ever compared, never parsed.
ID_LOW, ID_HIGH = 100_000_000, 1_000_000_000


def new_subscriber_id() -> str:
    return str(ID_LOW + secrets.randbelow(ID_HIGH - ID_LOW))


def utcnow() -> datetime:
    return datetime.now(UTC)
