"""Rate limits on what people's texts set off: replies per number per hour
(keys.inbound_counter), confirmation emails per address and address changes per number per day
(keys.email_confirmation, keys.email_changes)."""

from __future__ import annotations

from typing import Any

from reminders.storage import codec, keys
from reminders.storage.client import Client, Pipeline
from reminders.storage.lua import script


def count_reply(client: Client, phone: str) -> int:
    """One more reply to `phone` this hour; how many so far (the window starts with the first)."""
    key = keys.inbound_counter(phone)
    with client.pipeline() as pipe:
        pipe.incr(key)
        pipe.expire(key, 3600, nx=True)
        count, _ = pipe.execute()
    return int(count)


def claim_confirmation(client: Client, subscriber_id: str, address: str, window_seconds: int,
                       changes_per_window: int) -> str:
    """'ok', 'address' or 'number': see lua/email_claim.lua."""
    raw: Any = script(client, "email_claim")(
        keys=[keys.email_confirmation(address), keys.email_changes(subscriber_id)],
        args=[window_seconds, changes_per_window])
    return codec.text(raw)


def claim_inbox(client: Client, address: str, window_seconds: int) -> bool:
    """Book the one confirmation email of the window for `address`'s inbox (the same key the
    texted EMAIL books in lua/email_claim.lua); False: one went there within the window."""
    return bool(client.set(keys.email_confirmation(address), "1", ex=window_seconds, nx=True))


def release_inbox(client: Client, address: str) -> None:
    """The booked email was not sent after all: the inbox may be asked again."""
    client.delete(keys.email_confirmation(address))


def forget_in(pipe: Pipeline, subscriber_id: str, phone: str | None, email: str | None) -> None:
    """Queue the deletion of every limit record naming this person (see app/people/forget.py)."""
    pipe.delete(keys.email_changes(subscriber_id))
    if email:
        pipe.delete(keys.email_confirmation(email))
    if phone:
        pipe.delete(keys.inbound_counter(phone))
