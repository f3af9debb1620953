"""Review items: what a person on the care team must look at, who took it, how it ended.

Owns keys.REVIEW_* and keys.review*(): one hash per item (fields below, all text), the open
items (score = opened), the items waiting for an escalation stage (score = when it falls due),
the closed ones (score = closed), and per person (or unknown number) the open item of each
"kind:level" (a second text about the same blister joins the open item instead of opening a
new one) and every item of theirs (for `forget`).
Item fields: id, kind, subscriber, phone, at, level, category, text, reply, due_by, stage1_at,
stage2_at, stage, owner, taken_at, outcome, note, closed_at, closed_by, state (open|closed),
texts (how many texts joined it). Instants are ISO 8601 UTC.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from reminders.storage import codec
from reminders.storage import keys_care as keys
from reminders.storage.client import Client, Pipeline

MAX_TEXT = 480  # enough to read; the inbox stream keeps the whole text


def open_item(client: Client, who: str, slot: str, fields: dict[str, str],
              opened: float) -> tuple[str, bool]:
    """Open an item for `who` in `slot` ("kind:level"), or join the one open there: (id, new).

    The id is taken first and the slot claimed with HSETNX, so two texts arriving together
    open one item (a lost race costs an unused id, nothing else)."""
    item_id = str(client.incr(keys.REVIEW_SEQ))
    if not client.hsetnx(keys.review_open_of(who), slot, item_id):
        existing = codec.text(client.hget(keys.review_open_of(who), slot))
        if existing and client.exists(keys.review(existing)):
            client.hincrby(keys.review(existing), "texts", 1)
            return existing, False
        client.hset(keys.review_open_of(who), slot, item_id)  # a forgotten item's slot
    record = {"owner": "", "outcome": "", "note": "", **fields, "id": item_id, "state": "open",
              "stage": "0", "texts": "1",
              "text": fields.get("text", "")[:MAX_TEXT]}
    with client.pipeline() as pipe:
        pipe.hset(keys.review(item_id), mapping=record)  # type: ignore[arg-type]
        pipe.zadd(keys.REVIEW_OPEN, {item_id: opened})
        pipe.sadd(keys.review_all_of(who), item_id)
        pipe.execute()
    return item_id, True


def note(client: Client, item_id: str, **fields: str) -> None:
    """Add to an item (the reply that was sent); never reopens a closed one."""
    if client.exists(keys.review(item_id)):
        client.hset(keys.review(item_id), mapping=fields)  # type: ignore[arg-type]


def schedule_escalation(client: Client, item_id: str, at: float | None, stage: int) -> None:
    """The next stage falls due at `at` (None: no more stages)."""
    with client.pipeline() as pipe:
        pipe.hset(keys.review(item_id), "stage", str(stage))
        if at is None:
            pipe.zrem(keys.REVIEW_ESCALATE, item_id)
        else:
            pipe.zadd(keys.REVIEW_ESCALATE, {item_id: at})
        pipe.execute()


def due_escalations(client: Client, now: float, limit: int = 200) -> list[str]:
    raw: list[bytes] = client.zrangebyscore(  # type: ignore[assignment]
        keys.REVIEW_ESCALATE, "-inf", now, start=0, num=limit)
    return [codec.text(item) for item in raw]


def take(client: Client, item_id: str, owner: str, at: str) -> bool:
    """An operator takes (acknowledges) an open item: no more escalation. False: not open."""
    if codec.text(client.hget(keys.review(item_id), "state")) != "open":
        return False
    with client.pipeline() as pipe:
        pipe.hset(keys.review(item_id), "owner", owner)
        pipe.hsetnx(keys.review(item_id), "taken_at", at)
        pipe.zrem(keys.REVIEW_ESCALATE, item_id)
        pipe.execute()
    return True


def close(client: Client, item_id: str, who: str, slot: str, fields: dict[str, str],
          closed: float) -> bool:
    """Close an open item with its outcome fields; False when it was not open."""
    key = keys.review(item_id)
    if codec.text(client.hget(key, "state")) != "open":
        return False
    still_open_here = codec.text(client.hget(keys.review_open_of(who), slot)) == item_id
    with client.pipeline() as pipe:
        record: dict[Any, Any] = {**fields, "state": "closed"}
        pipe.hset(key, mapping=record)
        pipe.zrem(keys.REVIEW_OPEN, item_id)
        pipe.zrem(keys.REVIEW_ESCALATE, item_id)
        pipe.zadd(keys.REVIEW_CLOSED, {item_id: closed})
        if still_open_here:
            pipe.hdel(keys.review_open_of(who), slot)
        pipe.execute()
    return True


def get(client: Client, item_id: str) -> dict[str, str] | None:
    raw: dict[bytes, bytes] = client.hgetall(keys.review(item_id))  # type: ignore[assignment]
    return codec.text_hash(raw) or None


def get_many(client: Client, ids: Iterable[str]) -> list[dict[str, str]]:
    """The items that still exist, in the order asked."""
    with client.pipeline(transaction=False) as pipe:
        for item_id in ids:
            pipe.hgetall(keys.review(item_id))
        replies: list[Any] = pipe.execute()
    return [codec.text_hash(raw) for raw in replies if raw]


def open_ids(client: Client) -> list[str]:
    """Open items, the oldest first."""
    raw: list[bytes] = client.zrange(keys.REVIEW_OPEN, 0, -1)  # type: ignore[assignment]
    return [codec.text(item) for item in raw]


def open_levels(client: Client) -> list[tuple[str, float]]:
    """(level, opened epoch) of every open item: what /metrics counts (a care team's backlog,
    not the population)."""
    opened: list[tuple[bytes, float]] = client.zrange(  # type: ignore[assignment]
        keys.REVIEW_OPEN, 0, -1, withscores=True)
    with client.pipeline(transaction=False) as pipe:
        for item_id, _ in opened:
            pipe.hget(keys.review(codec.text(item_id)), "level")
        levels = pipe.execute()
    return [(codec.text(level), score) for (_, score), level in zip(opened, levels,
                                                                     strict=True)]


def closed_ids(client: Client, since: float, limit: int = 1000) -> list[str]:
    """Items closed since `since`, the latest first."""
    raw: list[bytes] = client.zrevrangebyscore(  # type: ignore[assignment]
        keys.REVIEW_CLOSED, "+inf", since, start=0, num=limit)
    return [codec.text(item) for item in raw]


def ids_of(client: Client, who: str) -> list[str]:
    raw: set[bytes] = client.smembers(keys.review_all_of(who))  # type: ignore[assignment]
    return sorted((codec.text(item) for item in raw), key=int)


def open_slots(client: Client, who: str) -> dict[str, str]:
    """"kind:level" -> open item id, for one person."""
    raw: dict[bytes, bytes] = client.hgetall(keys.review_open_of(who))  # type: ignore[assignment]
    return codec.text_hash(raw)


def forget_in(pipe: Pipeline, who: str, ids: Iterable[str]) -> None:
    """Erase a person's items (in the caller's transaction)."""
    doomed = list(ids)
    for item_id in doomed:
        pipe.delete(keys.review(item_id))
    if doomed:
        for index in (keys.REVIEW_OPEN, keys.REVIEW_ESCALATE, keys.REVIEW_CLOSED):
            pipe.zrem(index, *doomed)
    pipe.delete(keys.review_open_of(who), keys.review_all_of(who))
