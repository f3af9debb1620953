"""Who gets the evening call: the set `fc:voice:callers` of the people whose voice channel is
deliverable (chosen, with a number, voice_status active).

Owned here; written in the same transaction as the record by subscribers.py (save, delete)
and by lua/subscriber_opt_out.lua (a STOP by text ends calls); read by the capacity forecast
(app/evenings/capacity.py), which places each caller at their next due instant: the calls are their
own queue at TWILIO_CPS. Only callers are read, so the forecast never reads the texters' records.
"""

from __future__ import annotations

from reminders.domain.subscriber import Subscriber
from reminders.storage import codec, due_index, keys
from reminders.storage.client import Client, Pipeline

BATCH = 1000


def sync_caller_in(pipe: Pipeline, sub: Subscriber) -> None:
    """Queue the person's membership as their record now says (in a caller's transaction)."""
    if sub.deliverable("voice"):
        pipe.sadd(keys.VOICE_CALLERS, sub.id)
    else:
        pipe.srem(keys.VOICE_CALLERS, sub.id)


def forget_caller_in(pipe: Pipeline, subscriber_id: str) -> None:
    pipe.srem(keys.VOICE_CALLERS, subscriber_id)


def next_instants(client: Client) -> list[float]:
    """Every caller's next due instant (epoch seconds; callers not scheduled are left out)."""
    ids = sorted(codec.text(raw) for raw in client.smembers(keys.VOICE_CALLERS))
    found: list[float] = []
    for start in range(0, len(ids), BATCH):
        with client.pipeline(transaction=False) as pipe:
            for subscriber_id in ids[start:start + BATCH]:
                due_index.next_due_in(pipe, subscriber_id)
            found += [float(score) for score in pipe.execute() if score is not None]
    return found
