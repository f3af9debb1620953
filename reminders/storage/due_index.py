"""The due index: who is due when (keys.DUE), and the leased claims on it (keys.CLAIMS,
keys.CLAIM_ORIGIN). The only module that reads or writes them.

Claiming is one script, so two beats never take the same person; a claim is a lease, so a
dispatcher that dies before rescheduling someone cannot drop them from the schedule.
"""

from __future__ import annotations

from collections.abc import Sequence

from reminders.storage import codec, keys
from reminders.storage.client import Client, Pipeline
from reminders.storage.lua import script


def claim(client: Client, now: float, lease_until: float, limit: int
          ) -> list[tuple[str, float]]:
    """Up to `limit` (subscriber id, due instant) pairs, claimed until `lease_until`."""
    raw = script(client, "due_claim")(keys=[keys.DUE, keys.CLAIMS, keys.CLAIM_ORIGIN],
                                       args=[now, lease_until, limit])
    return [(codec.text(raw[i]), float(raw[i + 1])) for i in range(0, len(raw), 2)]


def finish(client: Client, next_instants: Sequence[tuple[str, str]]) -> int:
    """Reschedule claimed people: (id, next instant as epoch seconds, or "" to drop them)."""
    if not next_instants:
        return 0
    return int(script(client, "due_finish")(
        keys=[keys.DUE, keys.CLAIMS, keys.CLAIM_ORIGIN],
        args=[x for pair in next_instants for x in pair]))


def schedule_in(pipe: Pipeline, subscriber_id: str, instant: float | None) -> None:
    """Queue (in a caller's transaction) the person's next instant, or their removal."""
    if instant is None:
        pipe.zrem(keys.DUE, subscriber_id)
    else:
        pipe.zadd(keys.DUE, {subscriber_id: instant})


def remove_in(pipe: Pipeline, subscriber_id: str) -> None:
    """Queue the person's removal from the schedule and from any claim on it (forget)."""
    pipe.zrem(keys.DUE, subscriber_id)
    pipe.zrem(keys.CLAIMS, subscriber_id)
    pipe.hdel(keys.CLAIM_ORIGIN, subscriber_id)


def next_due(client: Client, subscriber_id: str) -> float | None:
    score = client.zscore(keys.DUE, subscriber_id)
    return float(score) if score is not None else None


def next_due_in(pipe: Pipeline, subscriber_id: str) -> None:
    pipe.zscore(keys.DUE, subscriber_id)


def size(client: Client) -> int:
    return int(client.zcard(keys.DUE))


def count_between(client: Client, bounds: Sequence[tuple[float, float]]) -> list[int]:
    """How many people are due in each [start, end) window (epoch seconds), one round trip."""
    with client.pipeline(transaction=False) as pipe:
        for start, end in bounds:
            pipe.zcount(keys.DUE, start, f"({end}")
        return [int(n) for n in pipe.execute()]


def due_before(client: Client, end: float, limit: int) -> list[tuple[str, float]]:
    """The first `limit` people due before `end` (overdue ones included), earliest first."""
    raw: list[tuple[bytes, float]] = client.zrangebyscore(  # type: ignore[assignment]
        keys.DUE, "-inf", f"({end}", start=0, num=limit, withscores=True)
    return [(codec.text(member), float(score)) for member, score in raw]


def count_by_minute(client: Client, first_minute: int, minutes: int) -> list[int]:
    """How many people are due in each of `minutes` minutes from `first_minute` (epoch seconds,
    a whole minute): one ZCOUNT each (O(log n), so 1,440 of them cost milliseconds whatever the
    population), all in one round trip."""
    with client.pipeline(transaction=False) as pipe:
        for n in range(minutes):
            start = first_minute + 60 * n
            pipe.zcount(keys.DUE, start, f"({start + 60}")
        return [int(c) for c in pipe.execute()]


def count_before(client: Client, instant: float) -> int:
    """People due before `instant` and not claimed yet, plus those claimed and not yet handed
    out: the dispatcher's backlog."""
    with client.pipeline(transaction=False) as pipe:
        pipe.zcount(keys.DUE, "-inf", f"({instant}")
        pipe.zcard(keys.CLAIMS)
        return sum(int(c) for c in pipe.execute())
