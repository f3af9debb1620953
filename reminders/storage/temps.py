"""Foot temperatures people text with TEMP: one hash per person (keys.temps), field = the local
evening, value = the reading as given (domain/temperature.Reading.encode). A later TEMP the same
evening replaces that evening's reading. The last TEMPS_KEPT evenings are kept: enough for the
console's and the weekly summary's view over time, and for the two-evening hotspot rule.
"""

from __future__ import annotations

from datetime import date

from reminders.domain.temperature import Reading
from reminders.storage import codec, keys
from reminders.storage.client import Client, Pipeline

TEMPS_KEPT = 60


def save(client: Client, subscriber_id: str, evening: date, reading: Reading) -> None:
    key = keys.temps(subscriber_id)
    fields: list[bytes] = client.hkeys(key)  # type: ignore[assignment]
    older = sorted(f for f in (codec.text(raw) for raw in fields) if f != evening.isoformat())
    stale = older[:max(0, len(older) - (TEMPS_KEPT - 1))]
    with client.pipeline() as pipe:
        pipe.hset(key, evening.isoformat(), reading.encode())
        if stale:
            pipe.hdel(key, *stale)
        pipe.execute()


def read(client: Client, subscriber_id: str) -> dict[date, Reading]:
    """Every kept evening's reading; an unreadable entry is left out, never raised."""
    raw: dict[bytes, bytes] = client.hgetall(keys.temps(subscriber_id))  # type: ignore[assignment]
    found: dict[date, Reading] = {}
    for field, value in raw.items():
        try:
            found[date.fromisoformat(codec.text(field))] = Reading.decode(codec.text(value))
        except ValueError:
            continue
    return found


def remove_in(pipe: Pipeline, subscriber_id: str) -> None:
    pipe.delete(keys.temps(subscriber_id))
