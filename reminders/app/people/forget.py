"""`reminders forget`: erase everything about one person, keep only what honours an opt-out.

Removed, in one transaction: the subscriber record and its phone/email index entries, their
place in the due index, claims and in-flight evenings, their consent-log entries (found through
their own index, not by reading the log), every per-night record (what was sent, delivery
statuses, DONE, symptom scores), the provider-message records pointing at those nights, open
foot-problem reports, foot temperatures (TEMP), their review items and place on the unreachable
list, their caregiver link (the caregiver's number and name, both consents, the record of texts
sent to the caregiver), the records of their check-ins, re-confirmations and confirmations
(storage/sends.py) with those messages' index entries, and the rate-limit counters named after
their number, id or address; then, just after, the texts kept in the inbox for the care team (a
capped stream, read page by page).
Kept: a hash of the number that sent STOP (or of the address that unsubscribed) on the
suppression list, and one "forgotten" event naming nobody in the consent log (when an erasure
happened).

A reminder being sent at the very moment of the erasure may still write its night record
afterwards; like every night record it expires after keys.NIGHT_TTL_SECONDS.
"""

from __future__ import annotations

from datetime import UTC, datetime

from reminders.domain.subscriber import Subscriber
from reminders.storage import erasure
from reminders.storage.subscribers import Store


def forget(store: Store, sub: Subscriber, now: datetime | None = None) -> None:
    # The structures' own parts are listed in storage/erasure.py, next to their owners.
    erasure.erase(store, sub, (now or datetime.now(UTC)).date())
