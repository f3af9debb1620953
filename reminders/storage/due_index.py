"""The due index: who is due when (the shards keys.due_shard(id), their next index keys.DUE_NEXT,
and the legacy single set keys.DUE), and the leased claims on it (keys.CLAIMS,
keys.CLAIM_ORIGIN). The only module that reads or writes them (the opt-out script removes a
person too, atomically with their opt-out: subscribers.py).

Claiming is one script, so two beats never take the same person; a claim is a lease, so a
dispatcher that dies before rescheduling someone cannot drop them from the schedule.

Why shards: one sorted set of a million people costs ~100 bytes each (a skiplist node, a dict
entry and the member); 16,384 small ones stay listpack-encoded at ~30 bytes each. The next index
(one entry per shard, a lower bound of its earliest instant) keeps a tick that finds nobody due
at one command, as before.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from reminders.storage import codec, keys
from reminders.storage.client import Client, Pipeline
from reminders.storage.lua import script

MIGRATE_PAGE = 1000
# Shards per histogram call: each call reads every member of these (about 60 each at a million
# people): 64 shards hold Redis about 2 ms at a time (a whole forecast: ~0.55 s of Redis time
# at a million people, measured).
HISTOGRAM_SHARDS = 64
# Shards per due_page call (Tonight's page): each call reads about one entry per shard plus a
# page. Measured at a million people (minute instants, long tie runs): 1024 holds Redis 4.5-7 ms
# a call, 2048 8-12 ms, 4096 15-25 ms, for the same page time (~90 ms page 1, ~130 ms deep).
PAGE_SHARDS = 1024


def _shard_args() -> list[str | int]:
    return [keys.DUE_SHARD_PREFIX, keys.DUE_SHARDS]


def claim(client: Client, now: float, lease_until: float, limit: int
          ) -> list[tuple[str, float]]:
    """Up to `limit` (subscriber id, due instant) pairs, claimed until `lease_until`."""
    raw = script(client, "due_claim")(
        keys=[keys.DUE, keys.CLAIMS, keys.CLAIM_ORIGIN, keys.DUE_NEXT],
        args=[now, lease_until, limit, *_shard_args()])
    return [(codec.text(raw[i]), float(raw[i + 1])) for i in range(0, len(raw), 2)]


def finish(client: Client, next_instants: Sequence[tuple[str, str]]) -> int:
    """Reschedule claimed people: (id, next instant as epoch seconds, or "" to drop them)."""
    if not next_instants:
        return 0
    return int(script(client, "due_finish")(
        keys=[keys.CLAIMS, keys.CLAIM_ORIGIN, keys.DUE_NEXT],
        args=[*_shard_args(), *(x for pair in next_instants for x in pair)]))


def schedule_in(pipe: Pipeline, subscriber_id: str, instant: float | None) -> None:
    """Queue (in a caller's transaction) the person's next instant, or their removal."""
    if instant is None:
        script(pipe, "due_remove")(
            keys=[keys.due_shard(subscriber_id), keys.DUE_NEXT, keys.DUE],
            args=[subscriber_id, keys.DUE_SHARD_PREFIX, keys.due_shard_number(subscriber_id)],
            client=pipe)
    else:
        pipe.zrem(keys.DUE, subscriber_id)  # the legacy set: a person is in one place only
        # The shard first, then its lower bound: even outside a transaction, a claim in
        # between never sets the bound above someone (lua/due_functions.lua, due_add).
        pipe.zadd(keys.due_shard(subscriber_id), {subscriber_id: instant})
        pipe.zadd(keys.DUE_NEXT, {str(keys.due_shard_number(subscriber_id)): instant}, lt=True)


def schedule_many(client: Client, instants: Mapping[str, float], batch: int = 2000) -> None:
    """Put many people at the given instants (bulk loads: benchmarks, imports)."""
    items = list(instants.items())
    for start in range(0, len(items), batch):
        with client.pipeline(transaction=True) as pipe:
            for subscriber_id, instant in items[start:start + batch]:
                schedule_in(pipe, subscriber_id, instant)
            pipe.execute()


def remove_in(pipe: Pipeline, subscriber_id: str) -> None:
    """Queue the person's removal from the schedule and from any claim on it (forget)."""
    schedule_in(pipe, subscriber_id, None)
    pipe.zrem(keys.CLAIMS, subscriber_id)
    pipe.hdel(keys.CLAIM_ORIGIN, subscriber_id)


def next_due(client: Client, subscriber_id: str) -> float | None:
    score = client.zscore(keys.due_shard(subscriber_id), subscriber_id)
    if score is None:  # not migrated yet (an older process wrote it after the start)
        score = client.zscore(keys.DUE, subscriber_id)
    return float(score) if score is not None else None


def next_due_in(pipe: Pipeline, subscriber_id: str) -> None:
    """Queue the person's next instant (one reply: migrate() emptied the legacy set at start)."""
    pipe.zscore(keys.due_shard(subscriber_id), subscriber_id)


def size(client: Client) -> int:
    return int(script(client, "due_size")(keys=[keys.DUE, keys.DUE_NEXT],
                                          args=[keys.DUE_SHARD_PREFIX]))


def migrate(client: Client) -> int:
    """Move everyone from the legacy single sorted set into the shards, a page per script call
    (at start: wiring's check_storage). Returns how many were moved; 0 and one EXISTS when
    there is nothing to move."""
    total = int(client.zcard(keys.DUE))
    if not total:
        return 0
    move = script(client, "due_migrate")
    while int(move(keys=[keys.DUE, keys.DUE_NEXT],
                   args=[*_shard_args(), MIGRATE_PAGE])):
        pass
    return total


def count_by_minute(client: Client, first_minute: int, minutes: int) -> tuple[int, list[int]]:
    """(people due before `first_minute`, people due in each of `minutes` minutes from it):
    every shard read inside Redis, HISTOGRAM_SHARDS per script call, plus the legacy set (empty
    once migrated) one ZCOUNT a minute."""
    histogram = script(client, "due_histogram")
    before, counts = 0, [0] * minutes
    with client.pipeline(transaction=False) as pipe:
        for first in range(0, keys.DUE_SHARDS, HISTOGRAM_SHARDS):
            histogram(args=[keys.DUE_SHARD_PREFIX, first, first + HISTOGRAM_SHARDS - 1,
                            first_minute, minutes], client=pipe)
        pipe.zcount(keys.DUE, "-inf", f"({first_minute}")
        for n in range(minutes):
            start = first_minute + 60 * n
            pipe.zcount(keys.DUE, start, f"({start + 60}")
        replies = pipe.execute()
    for part in replies[:-minutes - 1]:
        before += int(part[0])
        for n, count in enumerate(part[1:]):
            counts[n] += int(count)
    before += int(replies[-minutes - 1])
    for n, count in enumerate(replies[-minutes:]):
        counts[n] += int(count)
    return before, counts


def claimed(client: Client) -> int:
    """People claimed by a dispatcher and not yet handed out or rescheduled."""
    return int(client.zcard(keys.CLAIMS))


def due_before(client: Client, end: float, limit: int,
               after: tuple[float, str] | None = None) -> list[tuple[str, float]]:
    """The first `limit` people due before `end` (overdue ones included), earliest first (ties
    by id, as Redis orders them), after `after`: the (instant, id) a previous page ended on.

    Without reading every entry: the shards whose lower bound (DUE_NEXT) is before `end`, and
    the legacy set, are merged inside Redis, PAGE_SHARDS per script call (lua/due_page.lua:
    each shard's first entry from the cursor on, then only the next entry of the shard a
    person was taken from), all calls in one round trip; here the calls' pages are merged."""
    shards: list[bytes] = client.zrangebyscore(  # type: ignore[assignment]
        keys.DUE_NEXT, "-inf", f"({end}")
    names = [keys.DUE, *(keys.DUE_SHARD_PREFIX + codec.text(shard) for shard in shards)]
    bound = ([repr(float(after[0])), repr(float(after[0])), after[1]] if after is not None
             else ["-inf", "", ""])
    page = script(client, "due_page")
    with client.pipeline(transaction=False) as pipe:
        for first in range(0, len(names), PAGE_SHARDS):
            page(keys=names[first:first + PAGE_SHARDS],
                 args=[bound[0], repr(float(end)), *bound[1:], limit], client=pipe)
        replies = pipe.execute()
    found = sorted((float(part[i + 1]), codec.text(part[i]))
                   for part in replies for i in range(0, len(part), 2))
    return [(member, score) for score, member in found[:limit]]
