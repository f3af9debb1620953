"""People whose texts the carrier could not deliver (keys.UNREACHABLE, one hash).

Filled by the status callback for undelivered texts whose error says the handset cannot be
reached (30003 unreachable, 30005 unknown or inactive, 30006 a landline, and the like: the
set is the channel's); such silence is not a person ignoring us, so the silence check sends
them no check-in. A later delivered text takes them off the list.
"""

from __future__ import annotations

import json

from reminders.storage import codec
from reminders.storage import keys_care as keys
from reminders.storage.client import Client, Pipeline


def add(client: Client, subscriber_id: str, at: str, code: str) -> None:
    client.hset(keys.UNREACHABLE, subscriber_id, json.dumps({"at": at, "code": code}))


def remove(client: Client, subscriber_id: str) -> None:
    client.hdel(keys.UNREACHABLE, subscriber_id)


def is_listed(client: Client, subscriber_id: str) -> bool:
    return bool(client.hexists(keys.UNREACHABLE, subscriber_id))


def read_all(client: Client) -> list[tuple[str, dict[str, str]]]:
    raw: dict[bytes, bytes] = client.hgetall(keys.UNREACHABLE)  # type: ignore[assignment]
    return [(codec.text(k), json.loads(v)) for k, v in raw.items()]


def forget_in(pipe: Pipeline, subscriber_id: str) -> None:
    pipe.hdel(keys.UNREACHABLE, subscriber_id)
