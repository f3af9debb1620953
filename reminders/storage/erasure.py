"""Erasing one person (`reminders forget`, app/people/forget.py): every structure that names them,
in one transaction with the subscriber record (Store.delete), then the inbox's texts.

Removed: the subscriber record and its phone/email index entries, their place in the due
index, claims and in-flight evenings, their consent-log entries, every per-night record (and
their evenings in the engagement counts), the provider-message records pointing at those
nights, open foot-problem reports, foot temperatures, their review items and place on the
unreachable list, their caregiver link, the records of their check-ins, re-confirmations and
confirmations (sends.py) with those messages' index entries, and the rate-limit counters named
after their number, id or address; then, just after, the texts kept in the inbox for the care
team (a capped stream, read page by page).
Each structure's part is its owning module's `forget_in`; this module only lists them.
"""

from __future__ import annotations

from datetime import date

from reminders.domain.subscriber import Subscriber
from reminders.storage import (
    caregivers,
    conversation,
    engagement,
    flags,
    heard,
    inbox,
    limits,
    nights,
    replay,
    review,
    sends,
    temps,
    unreachable,
)
from reminders.storage.client import Pipeline
from reminders.storage.subscribers import Store


def erase(store: Store, sub: Subscriber, today: date) -> None:
    """Everything about `sub`; only their opt-out (hashed) and a "forgotten" event stay."""
    found = nights.of_subscriber(store.redis, sub.id, today)
    counted = engagement.counted(store.redis, found.evenings)
    caregiver_phone = caregivers.caregiver_phone(store.redis, sub.id)
    items = review.ids_of(store.redis, sub.id)
    # items from their number before it was enrolled (kept by number, not by subscriber)
    by_number = review.ids_of(store.redis, f"phone:{sub.phone}") if sub.phone else []

    def also(pipe: Pipeline) -> None:
        found.erase(pipe)
        engagement.forget_in(pipe, counted)  # their evenings in the engagement counts
        replay.forget_in(pipe, sub.phone, found.message_sids)
        limits.forget_in(pipe, sub.id, sub.phone, sub.email)
        flags.remove_in(pipe, sub.id)  # open foot-problem reports
        temps.remove_in(pipe, sub.id)  # foot temperatures (TEMP)
        # their caregiver link, its index entry and the record of texts sent to the caregiver
        caregivers.forget_in(pipe, sub.id, caregiver_phone)
        review.forget_in(pipe, sub.id, items)  # their review items (the words, the notes)
        if sub.phone:
            review.forget_in(pipe, f"phone:{sub.phone}", by_number)
        heard.forget_in(pipe, sub.id)
        unreachable.forget_in(pipe, sub.id)
        conversation.forget_in(pipe, sub.id)  # their texts in and out
        # their check-ins, re-confirmations and confirmations (and those ids' index entries)
        sends.forget_in(store.redis, pipe, sub.id)

    store.delete(sub, suppress=True, also=also)
    if sub.phone:  # the texts kept for the care team (a capped stream, read page by page)
        inbox.forget(store.redis, sub.phone, sub.id)
