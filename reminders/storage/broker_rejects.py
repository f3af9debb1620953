"""Broker entries that were not task envelopes, set aside for an operator (keys.BROKER_REJECTED,
the newest REJECTED_KEEP), and counted in the metrics."""

from __future__ import annotations

from reminders.storage import counters, keys
from reminders.storage.client import Client

REJECTED_KEEP = 100


def set_aside(client: Client, entry: bytes | str) -> None:
    with client.pipeline(transaction=True) as pipe:
        pipe.lpush(keys.BROKER_REJECTED, entry)
        pipe.ltrim(keys.BROKER_REJECTED, 0, REJECTED_KEEP - 1)
        counters.incr(pipe, counters.rejected("broker"))
        pipe.execute()


def where() -> str:
    """Where they are kept (for the log line)."""
    return keys.BROKER_REJECTED
