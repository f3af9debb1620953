"""The message-id index: `fc:msg:<provider id>` -> the record that holds that message's
status. A provider's status callback names only its message id (Twilio's MessageSid); this
index finds the night record and the field of the message, whatever its kind.

Written by lua/night_finish.lua in the same step as the send record (storage/nights.py), with
the record's expiry; read here.
"""

from __future__ import annotations

from datetime import date

import redis

from reminders.storage import codec, keys


def value(subscriber_id: str, local_date: date, channel: str) -> str:
    """What `fc:msg:<sid>` holds: "<id>:<date>[:<record field>]" (the field is left out for
    the nightly "sms", as every entry written before other kinds had their ids indexed)."""
    tail = "" if channel == "sms" else f":{channel}"
    return f"{subscriber_id}:{local_date.isoformat()}{tail}"


def night_for(client: redis.Redis, sid: str) -> tuple[str, date, str] | None:
    """(subscriber id, local date, record field) of the message `sid`, if known."""
    raw = client.get(keys.message_index(sid))
    if raw is None:
        return None
    subscriber_id, _, rest = codec.text(raw).partition(":")
    day, _, channel = rest.partition(":")
    return subscriber_id, date.fromisoformat(day), channel or "sms"
