"""When each person last texted us (keys.HEARD, one sorted set: id -> epoch seconds).

Written by the inbound path for every text from a subscriber; read by the silence check
(app/care/silence.py): evenings delivered after the last text heard are evenings without a reply.
"""

from __future__ import annotations

from reminders.storage import keys_care as keys
from reminders.storage.client import Client, Pipeline


def mark(client: Client, subscriber_id: str, at: float) -> None:
    client.zadd(keys.HEARD, {subscriber_id: at}, gt=True)


def last(client: Client, subscriber_id: str) -> float | None:
    score = client.zscore(keys.HEARD, subscriber_id)
    return None if score is None else float(score)


def forget_in(pipe: Pipeline, subscriber_id: str) -> None:
    pipe.zrem(keys.HEARD, subscriber_id)
