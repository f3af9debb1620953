"""Per local date counters for `reminders stats` (keys.night_stats: one hash a date).

Written inside the night records' scripts (nights.py, lua/night_*.lua), so a night's final
state and its count change together; read here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from reminders.storage import codec, keys
from reminders.storage.client import Client


def read(client: Client, dates: Sequence[date]) -> list[dict[str, int]]:
    """Each date's counters ({} for a date nobody was due on), in the order given."""
    with client.pipeline(transaction=False) as pipe:
        for day in dates:
            pipe.hgetall(keys.night_stats(day))
        raws = pipe.execute()
    return [{codec.text(k): int(v) for k, v in raw.items()} for raw in raws]

