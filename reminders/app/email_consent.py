"""Email consent: confirming an address (double opt-in) and one-click unsubscribing.

Separate from SMS consent: unsubscribing from email never stops the texts, and the other way
round. Every change is a consent event in the stream.
"""

from __future__ import annotations

from datetime import datetime

from reminders.domain.subscriber import Subscriber
from reminders.storage import keys
from reminders.storage.subscribers import ConsentEvent, Store


def unsubscribe(store: Store, address: str, now: datetime, source: str = "email") -> bool:
    """Stop email to `address`; True if something changed (False: unknown or already out)."""
    sub = store.find(address)
    if sub is None:
        store.redis.sadd(keys.SUPPRESSED_EMAILS, address.lower())
        return False
    if sub.email_status == "unsubscribed":
        return False
    channel = "sms" if sub.phone and sub.wants_sms else sub.channel
    store.save(sub, sub.with_changes(email_status="unsubscribed", channel=channel),
               [ConsentEvent("email", "unsubscribed", source, "one-click")], now)
    return True


def confirm(store: Store, address: str, now: datetime) -> Subscriber | None:
    """Activate a pending address; None if nobody has it (or it was unsubscribed since)."""
    sub = store.find(address)
    if sub is None or sub.email_status not in ("pending", "active"):
        return None
    if sub.email_status == "pending":
        store.redis.srem(keys.SUPPRESSED_EMAILS, address.lower())
        sub = store.save(sub, sub.with_changes(email_status="active"),
                         [ConsentEvent("email", "confirmed", "email", "confirmation link")], now)
    return sub
