"""The message-id index: `fc:msg:<provider id>` -> the record that holds that message's
status. A provider's status callback names only its message id (Twilio's MessageSid); this
index finds the record and the field of the message, whatever its kind:
  "<id>:<date>[:<field>]"  a field of a night record (the nightly "sms" has no field, as
                           every entry written before other kinds were indexed)
  "c:<id>:<text key>"      a caregiver text (storage/caregivers.py)
  "s:<owner>:<field>"      a message kept per owner (storage/sends.py: a check-in, a
                           re-confirmation)

Written in the same step as the send record, with the record's expiry: by lua/night_finish.lua
(storage/nights.py), by caregivers.finish_text (`set_in`) and by sends.finish
(`set_sends_in`); read here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import redis

from reminders.storage import codec, keys

CARE_PREFIX = "c:"
SENDS_PREFIX = "s:"


@dataclass(frozen=True)
class Target:
    """Where a message's status goes: a night record's field, or a caregiver text's key."""

    subscriber_id: str
    field: str  # the night record's field prefix, or the caregiver text's key
    day: date | None = None  # the night's local date; None: a caregiver text or a send
    sends: bool = False  # a message of storage/sends.py (field: "<kind>:<period>")

    @property
    def caregiver(self) -> bool:
        return self.day is None and not self.sends


def value(subscriber_id: str, local_date: date, channel: str) -> str:
    """A night record's entry (see the module docstring)."""
    tail = "" if channel == "sms" else f":{channel}"
    return f"{subscriber_id}:{local_date.isoformat()}{tail}"


def set_in(pipe: redis.client.Pipeline, provider_id: str, subscriber_id: str, text_key: str,
           ttl: int) -> None:
    """Queue a caregiver text's entry in a caller's transaction."""
    pipe.set(keys.message_index(provider_id), f"{CARE_PREFIX}{subscriber_id}:{text_key}",
             ex=ttl)


def set_sends_in(pipe: redis.client.Pipeline, provider_id: str, owner: str, field: str,
                 ttl: int) -> None:
    """Queue the entry of a message of storage/sends.py in a caller's transaction."""
    pipe.set(keys.message_index(provider_id), f"{SENDS_PREFIX}{owner}:{field}", ex=ttl)


def target(client: redis.Redis, sid: str) -> Target | None:
    """Where message `sid`'s status goes, if known."""
    raw = client.get(keys.message_index(sid))
    if raw is None:
        return None
    text = codec.text(raw)
    if text.startswith(CARE_PREFIX):
        subscriber_id, _, text_key = text[len(CARE_PREFIX):].partition(":")
        return Target(subscriber_id, text_key)
    if text.startswith(SENDS_PREFIX):
        owner, _, field = text[len(SENDS_PREFIX):].partition(":")
        return Target(owner, field, sends=True)
    subscriber_id, _, rest = text.partition(":")
    day, _, channel = rest.partition(":")
    return Target(subscriber_id, channel or "sms", date.fromisoformat(day))
