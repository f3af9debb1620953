"""The last capacity check (keys.CAPACITY), who runs the next one (keys.CAPACITY_REFRESH), and
the people due per minute it counted (keys.CAPACITY_LOAD).

The dispatcher checks tonight's load once per period, not every tick, and counts the due index
with it; /metrics only reads the result (one key). The result expires after a few periods, so
a stopped dispatcher's old verdict is not shown for ever (an absent result reads as "not at
risk, never checked").
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from reminders.storage import codec, keys
from reminders.storage.client import Client

# A result this many periods old is dropped (the dispatcher that wrote it has stopped).
KEEP_PERIODS = 3


@dataclass(frozen=True)
class CheckResult:
    at_risk: bool
    checked_at: float  # epoch seconds
    worst_minute: float  # epoch seconds of the minute whose last text goes out latest; 0: none
    worst_delay_seconds: float
    people: int
    # The due index's size (due_index.size walks every non-empty shard: too costly per scrape,
    # so the dispatcher counts it with this check); -1: not counted.
    due_index_size: int = -1


def claim_refresh(client: Client, period_seconds: float) -> bool:
    """True for one caller per period (SET NX with an expiry): that caller runs the check."""
    return bool(client.set(keys.CAPACITY_REFRESH, "1", nx=True,
                           px=max(1, int(period_seconds * 1000))))


def store(client: Client, result: CheckResult, period_seconds: float) -> None:
    with client.pipeline(transaction=True) as pipe:
        pipe.hset(keys.CAPACITY, mapping={
            "at_risk": int(result.at_risk), "checked_at": result.checked_at,
            "worst_minute": result.worst_minute, "worst_delay": result.worst_delay_seconds,
            "people": result.people, "due": result.due_index_size})
        pipe.expire(keys.CAPACITY, max(1, int(period_seconds * KEEP_PERIODS)))
        pipe.execute()


def last(client: Client) -> CheckResult | None:
    raw = codec.text_hash(client.hgetall(keys.CAPACITY))
    try:
        return CheckResult(raw["at_risk"] == "1", float(raw["checked_at"]),
                           float(raw["worst_minute"]), float(raw["worst_delay"]),
                           int(raw["people"]), int(raw.get("due", -1)))
    except (KeyError, ValueError):
        return None  # never checked, expired, or written by something else


@dataclass(frozen=True)
class DueLoad:
    """People due in each minute from `first` (UTC epoch seconds of an hour's start), as
    counted at `counted_at`; `backlog`: due before `first` and not claimed, plus claimed or
    in flight, at that moment."""

    counted_at: float
    first: int
    backlog: int
    counts: list[int]


def store_load(client: Client, load: DueLoad, keep_seconds: float) -> None:
    client.set(keys.CAPACITY_LOAD, json.dumps(
        {"at": load.counted_at, "first": load.first, "backlog": load.backlog,
         "counts": load.counts}, separators=(",", ":")), px=max(1, int(keep_seconds * 1000)))


def last_load(client: Client) -> DueLoad | None:
    raw = client.get(keys.CAPACITY_LOAD)
    try:
        got = json.loads(codec.text(raw))
        return DueLoad(float(got["at"]), int(got["first"]), int(got["backlog"]),
                       [int(n) for n in got["counts"]])
    except (TypeError, ValueError, KeyError, AttributeError):
        return None  # never counted, expired, or written by something else
