"""Evenings handed to a sender but not finished yet (keys.INFLIGHT, keys.INFLIGHT_RESENDS).

The dispatcher marks them before the hand-off and sweeps the stale ones; the send record's
script (nights.py) settles them in the same step that records the send, so a finished evening
is never handed out again.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from reminders.storage import codec, keys
from reminders.storage.client import Client, Pipeline
from reminders.storage.lua import script


def member(subscriber_id: str, local_date: date) -> str:
    return keys.inflight_member(subscriber_id, local_date)


def parse(raw: bytes | str) -> tuple[str, date]:
    """An in-flight member "<subscriber id>:<local date>"."""
    subscriber_id, _, day = codec.text(raw).partition(":")
    return subscriber_id, date.fromisoformat(day)


def mark(client: Client, evenings: Iterable[tuple[str, date]], now: float) -> None:
    marks = {member(sid, day): now for sid, day in evenings}
    if marks:
        client.zadd(keys.INFLIGHT, marks)


def settle_in(pipe: Pipeline, subscriber_id: str, local_date: date) -> None:
    name = member(subscriber_id, local_date)
    pipe.zrem(keys.INFLIGHT, name)
    pipe.hdel(keys.INFLIGHT_RESENDS, name)


def remove_in(pipe: Pipeline, evenings: Iterable[tuple[str, date]]) -> None:
    names = [member(sid, day) for sid, day in evenings]
    if names:
        pipe.zrem(keys.INFLIGHT, *names)
        pipe.hdel(keys.INFLIGHT_RESENDS, *names)


def sweep(client: Client, cutoff: float, now: float, limit: int, late_limit_seconds: float
          ) -> tuple[list[tuple[str, date]], list[tuple[str, date]]]:
    """(to hand out again, given up): see lua/inflight_sweep.lua."""
    stale, given_up = script(client, "inflight_sweep")(
        keys=[keys.INFLIGHT, keys.INFLIGHT_RESENDS], args=[cutoff, now, limit, late_limit_seconds])
    return [parse(m) for m in stale], [parse(m) for m in given_up]


def size(client: Client) -> int:
    """Evenings handed to senders and not finished: the queue in front of the provider."""
    return int(client.zcard(keys.INFLIGHT))


def key_names() -> list[str]:
    """For the send record's script, which settles an evening atomically with recording it."""
    return [keys.INFLIGHT, keys.INFLIGHT_RESENDS]
