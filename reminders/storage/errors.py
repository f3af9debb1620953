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


class Contended(redis.RedisError):
    """The record kept changing under a save, however long it waited: try again later.

    A storage condition, not bad input: the webhook answers 503 (so the provider retries)
    rather than pretending the change was made.
    """


def new_subscriber_id() -> str:
    # Random, short and meaningless: it appears in logs instead of phone numbers.
    return secrets.token_hex(6)


def utcnow() -> datetime:
    return datetime.now(UTC)
