"""The cumulative counters behind /metrics: one hash (keys.METRICS), field names made here only.

Workers, beat and web are separate processes (and machines): counting in Redis, where the
events happen anyway, gives one consistent view without a push gateway.
"""

from __future__ import annotations

from collections.abc import Iterable

from reminders.storage import codec, keys
from reminders.storage.client import Client, Pipeline


def inbound(kind: str) -> str:
    return f"inbound:{kind}"


def triage(level: str) -> str:
    """Texts kept for a person to read, by triage level (none: not understood)."""
    return f"triage:{level}"


def flag(category: str) -> str:
    return f"flag:{category}"


def unreadable(where: str) -> str:
    return f"unreadable:{where}"


def rejected(reason: str) -> str:
    return f"rejected:{reason}"


def outcome(name: str, channel: str) -> str:
    return f"{name}:{channel}"


def error(channel: str, code: str) -> str:
    return f"error:{channel}:{code}"


def loop(name: str, week: str) -> str:
    """The care-team loop's weekly figures (checkin_sent, checkin_answered, escalated_<stage>)
    by ISO week ("2026-W50"), for `stats` and the console."""
    return f"loop:{name}:{week}"


EMAIL_REPEATS = "resent_after_data:email"
PROVIDER_AUTH_FAILURES = "provider_auth_failures:sms"


def send_window_cuts(channel: str) -> str:
    """A worker halved its in-flight sends after `channel`'s provider answered 429."""
    return f"send_window_cuts:{channel}"


def late_slots(channel: str) -> str:
    """A `channel` request that would have reached the wire after its rate-limit slot: booked
    again."""
    return f"late_slots:{channel}"

LAG_SUM, LAG_COUNT, LAG_LAST = ("dispatch_lag_seconds_sum", "dispatch_lag_seconds_count",
                                "dispatch_lag_seconds_last")


def incr(client: Client | Pipeline, field: str, amount: int = 1) -> None:
    client.hincrby(keys.METRICS, field, amount)


class Counters:
    """The counters, bound to a client: what app/ holds instead of a Redis handle."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def incr(self, field: str, amount: int = 1) -> None:
        incr(self._client, field, amount)


def record_lag(client: Client, lags: list[float]) -> None:
    """How late after their instant people were handed to a sender (a summary for /metrics)."""
    if not lags:
        return
    with client.pipeline(transaction=False) as pipe:
        pipe.hincrbyfloat(keys.METRICS, LAG_SUM, sum(lags))
        pipe.hincrby(keys.METRICS, LAG_COUNT, len(lags))
        pipe.hset(keys.METRICS, LAG_LAST, max(lags))
        pipe.execute()


def read_all(client: Client) -> dict[str, str]:
    raw: dict[bytes, bytes] = client.hgetall(keys.METRICS)  # type: ignore[assignment]
    return codec.text_hash(raw)


def read(client: Client, fields: Iterable[str]) -> list[int]:
    names = list(fields)
    values = client.hmget(keys.METRICS, names)
    return [int(v or 0) for v in values]
