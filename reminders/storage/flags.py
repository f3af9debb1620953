"""Open foot-problem reports: one list per person (keys.flags) and who has one (keys.FLAGS_OPEN).

The restriction itself (no massage, heat, walking or standing while a problem is open) is the
subscriber's `flag_until`, written by Store.save; these lists are what the people who follow up
read. Nothing here expires: a report stays until an operator closes it (remove()).
"""

from __future__ import annotations

import json

from reminders.storage import codec, counters, keys
from reminders.storage.client import Client, Pipeline

# Reports kept per person while open (a worried person may text several times).
MAX_REPORTS = 20


def add(client: Client, subscriber_id: str, report: dict[str, str], at: float) -> None:
    key = keys.flags(subscriber_id)
    with client.pipeline() as pipe:
        pipe.rpush(key, json.dumps(report))
        pipe.ltrim(key, -MAX_REPORTS, -1)
        pipe.persist(key)  # a list written by an older version expired; this one must not
        pipe.zadd(keys.FLAGS_OPEN, {subscriber_id: at}, nx=True)
        counters.incr(pipe, counters.flag(report["category"]))
        pipe.execute()


def read(client: Client, subscriber_id: str) -> list[dict[str, str]]:
    raw: list[bytes] = client.lrange(keys.flags(subscriber_id), 0, -1)  # type: ignore[assignment]
    return decode(raw)


def read_in(pipe: Pipeline, subscriber_id: str) -> None:
    """Queue the read in a caller's pipeline (show/list, batched); decode() the reply."""
    pipe.lrange(keys.flags(subscriber_id), 0, -1)


def decode(raw: list[bytes]) -> list[dict[str, str]]:
    return [json.loads(item) for item in raw]


def open_ids(client: Client) -> list[str]:
    """People with a report, the longest waiting first."""
    ids: list[bytes] = client.zrange(keys.FLAGS_OPEN, 0, -1)  # type: ignore[assignment]
    return [codec.text(raw) for raw in ids]


def remove(client: Client, subscriber_id: str) -> None:
    with client.pipeline() as pipe:
        remove_in(pipe, subscriber_id)
        pipe.execute()


def remove_in(pipe: Pipeline, subscriber_id: str) -> None:
    pipe.delete(keys.flags(subscriber_id))
    pipe.zrem(keys.FLAGS_OPEN, subscriber_id)
