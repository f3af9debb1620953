"""What storage/ raises when a write cannot be made."""

from __future__ import annotations

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
