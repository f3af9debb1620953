"""Numbers and addresses that asked us to stop: kept after `forget`, so we keep honouring them.

The lists hold a hash of the number (E.164) or the lower-cased address, not the value itself:
enough to refuse it again, and nothing a reader of the database can text or mail. (A hash of a
phone number can be reversed by trying every number; it keeps the lists from being a contact
list, it is not anonymity.) Entries written before this (in clear) are still honoured, and are
replaced by their hash whenever that number or address is suppressed again.
"""

from __future__ import annotations

import hashlib

import redis

from reminders.storage import keys

Client = redis.Redis | redis.client.Pipeline


def _members(value: str) -> tuple[str, str]:
    """(what the list stores for `value`, the value in clear as older lists did)."""
    return "h:" + hashlib.sha256(value.encode()).hexdigest()[:32], value


def _lists(phone: str | None, email: str | None) -> list[tuple[str, str]]:
    pairs = [(keys.SUPPRESSED_PHONES, phone), (keys.SUPPRESSED_EMAILS,
                                               email.lower() if email else None)]
    return [(key, value) for key, value in pairs if value]


def is_suppressed(client: redis.Redis, phone: str | None = None,
                  email: str | None = None) -> bool:
    return any(any(client.smismember(key, list(_members(value))))
               for key, value in _lists(phone, email))


def add(pipe: Client, phone: str | None = None, email: str | None = None) -> None:
    for key, value in _lists(phone, email):
        hashed, clear = _members(value)
        pipe.sadd(key, hashed)
        pipe.srem(key, clear)


def remove(pipe: Client, phone: str | None = None, email: str | None = None) -> None:
    for key, value in _lists(phone, email):
        pipe.srem(key, *_members(value))
