"""Delivery status from the provider's callbacks: forward only, terminal states stay put.

Callbacks arrive out of order and more than once; a late `sent` must never overwrite
`delivered`. The comparison runs inside Redis (storage/lua/night_status.lua) so two callbacks
racing cannot interleave. A callback names only the message's own id; the message-id index
(storage/message_index.py) says whose record and which field (the nightly text, the weekly
one, a caregiver's text, a check-in, a re-confirmation) it belongs to, so every kind on a
channel with status callbacks is tracked.
"""

from __future__ import annotations

import logging

from reminders.domain import kinds
from reminders.domain.kinds import Audience
from reminders.domain.states import DELIVERY_RANKS as RANKS
from reminders.storage import message_index
from reminders.storage.subscribers import Store

log = logging.getLogger(__name__)


class UnknownMessage(LookupError):
    """A callback for a message we did not send (or whose record has expired)."""


def target_of(store: Store, sid: str) -> message_index.Target:
    """Where message `sid`'s status goes (UnknownMessage)."""
    found = store.message_index.target(sid)
    if found is None:
        raise UnknownMessage(sid)
    return found


def advance(store: Store, sid: str, status: str, error_code: str = "") -> tuple[bool, str]:
    """Record `status` for message `sid` if it moves forward; (changed, the id of the person
    whose own consent an error may concern: "" for a caregiver's text, which is not theirs)."""
    target = target_of(store, sid)
    if target.sends:  # a check-in, a re-confirmation: "<kind>:<period>"
        kind = kinds.get(target.field.partition(":")[0])
        changed = store.sends.advance_status(target.subscriber_id, target.field,
                                             status.lower(), error_code, RANKS, kind.name)
        ours = kind.audience == Audience.PERSON  # a caregiver's number is not the person's
        log.info("status owner=%s sid=%s field=%s status=%s error=%s applied=%s",
                 target.subscriber_id, sid, target.field, status, error_code or "-",
                 bool(changed))
        return bool(changed), target.subscriber_id if ours else ""
    if target.day is None:
        changed = store.caregivers.advance_text_status(target.subscriber_id, target.field,
                                                       status.lower(), error_code, RANKS)
    else:
        changed = store.nights.advance_status(target.subscriber_id, target.day,
                                              status.lower(), error_code, RANKS, target.field)
    log.info("status subscriber=%s sid=%s field=%s status=%s error=%s applied=%s",
             target.subscriber_id, sid, target.field, status, error_code or "-", bool(changed))
    return bool(changed), "" if target.caregiver else target.subscriber_id
