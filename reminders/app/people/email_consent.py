"""Email consent: adding an address by text, confirming it (double opt-in), unsubscribing.

Separate from SMS consent: unsubscribing from email never stops the texts, and the other way
round. Every change is a consent event in the stream.

An address texted to us may belong to someone who never asked for anything, so the EMAIL
command is bounded where it has an effect: a suppressed address (it unsubscribed) is never
asked again; a confirmation email goes to one inbox at most once per CONFIRMATION_WINDOW (a
day), whoever asks and whatever variant of the address they type (a+x@, and a.b@ on Gmail, are
the inbox of a@: validation.inbox_of); and one number may ask for at most
EMAIL_CHANGES_PER_DAY addresses a day.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime

from reminders.domain.subscriber import Subscriber
from reminders.storage.subscribers import AlreadySubscribed, ConsentEvent, Store

CONFIRMATION_WINDOW_SECONDS = 24 * 3600
EMAIL_CHANGES_PER_DAY = 3

# An address as validation accepts it (the local part's characters of RFC 5322's dot-atom),
# found in the text as the person typed it: keywords.parse reads a normalised copy, lower-cased
# and without symbols, which would turn First&Last@ into firstlast@.
_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9.-]+")
MAX_TEXT = 600


def address_from_text(text: str) -> str:
    """The first address in `text`, as typed ("" if none); a sentence's final dot is not
    part of it."""
    match = _ADDRESS.search(unicodedata.normalize("NFKC", (text or "")[:MAX_TEXT]))
    return match.group(0).rstrip(".") if match else ""


def add_by_text(store: Store, sub: Subscriber, address: str, words: str, now: datetime
                ) -> tuple[str, Subscriber]:
    """EMAIL <address> from `sub`: (the reply to give, the subscriber after).

    Replies: email_set (a confirmation is to be sent), email_active (already confirmed),
    email_suppressed, email_taken, email_wait (one was sent recently), email_limit.
    """
    same = sub.email is not None and sub.email.lower() == address.lower()
    if store.is_suppressed_email(address) or (same and sub.email_status == "unsubscribed"):
        return "email_suppressed", sub
    if same and sub.email_status == "active":
        after = sub if sub.wants_email else store.save(
            sub, sub.with_changes(channels=sub.channels | {"email"}))
        return "email_active", after
    owner = store.id_for(address)
    if owner is not None and owner != sub.id:
        return "email_taken", sub
    claimed = store.limits.claim_confirmation(sub.id, address, CONFIRMATION_WINDOW_SECONDS,
                                              EMAIL_CHANGES_PER_DAY)
    if claimed != "ok":
        return ("email_wait" if claimed == "address" else "email_limit"), sub
    after = sub.with_changes(email=address, channels=sub.channels | {"email"},
                             email_status="pending")
    try:
        after = store.save(sub, after, [ConsentEvent("email", "subscribed", "sms", words)], now)
    except AlreadySubscribed:  # taken by someone else a moment ago
        return "email_taken", sub
    return "email_set", after


def unsubscribe(store: Store, address: str, now: datetime, source: str = "email") -> bool:
    """Stop email to `address`; True if something changed (False: unknown or already out)."""
    # Listed whoever has it: the address stays refused if the person later changes theirs
    # (or is forgotten), until its owner confirms it again from a confirmation email.
    store.suppression.add(email=address)
    sub = store.find(address)
    if sub is None or sub.email_status == "unsubscribed":
        return False
    # Email leaves their channels while another one still reaches them.
    rest = sub.channels - {"email"} if sub.phone and sub.wants_sms else sub.channels
    store.save(sub, sub.with_changes(email_status="unsubscribed", channels=rest),
               [ConsentEvent("email", "unsubscribed", source, "one-click")], now)
    return True


def confirm(store: Store, address: str, now: datetime) -> Subscriber | None:
    """Activate a pending address; None if nobody has it (or it was unsubscribed since)."""
    sub = store.find(address)
    if sub is None or sub.email_status not in ("pending", "active"):
        return None
    if sub.email_status == "pending":
        store.suppression.remove(email=address)
        sub = store.save(sub, sub.with_changes(email_status="active"),
                         [ConsentEvent("email", "confirmed", "email", "confirmation link")], now)
    return sub
