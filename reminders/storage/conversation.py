"""A person's message history besides the nightly reminders (keys.conversation, one list).

Every text they send (with its triage level and category) and every reply and check-in we send
back, newest last, capped at keys.CONVERSATION_MAX; the nightly reminders and their delivery
statuses are the night records' (storage/nights.py). Read by the person's page; erased by
`forget`.
"""

from __future__ import annotations

import json

from reminders.storage import keys_care as keys
from reminders.storage.client import Client, Pipeline

MAX_TEXT = 1600


def add(client: Client, subscriber_id: str, *entries: dict[str, str]) -> None:
    if not entries:
        return
    key = keys.conversation(subscriber_id)
    with client.pipeline() as pipe:
        pipe.rpush(key, *(json.dumps({**e, "text": e.get("text", "")[:MAX_TEXT]})
                          for e in entries))
        pipe.ltrim(key, -keys.CONVERSATION_MAX, -1)
        pipe.execute()


def read(client: Client, subscriber_id: str) -> list[dict[str, str]]:
    """Oldest first."""
    raw: list[bytes] = client.lrange(keys.conversation(subscriber_id), 0, -1)  # type: ignore[assignment]
    return [json.loads(item) for item in raw]


def forget_in(pipe: Pipeline, subscriber_id: str) -> None:
    pipe.delete(keys.conversation(subscriber_id))
