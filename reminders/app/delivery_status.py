"""Delivery status from the provider's callbacks: forward only, terminal states stay put.

Callbacks arrive out of order and more than once; a late `sent` must never overwrite
`delivered`. The comparison runs inside Redis (storage/lua/night_status.lua) so two callbacks
racing cannot interleave. A callback names only the message's own id; the message-id index
(storage/message_index.py) says whose record and which field (the nightly text, the weekly
one, ...) it belongs to, so every kind with a channel that has status callbacks is tracked.
"""

from __future__ import annotations

import logging
from datetime import date

from reminders.domain.states import DELIVERY_RANKS as RANKS
from reminders.storage import message_index, nights
from reminders.storage.client import Client

log = logging.getLogger(__name__)


class UnknownMessage(LookupError):
    """A callback for a message we did not send (or whose record has expired)."""


def night_for_message(client: Client, sid: str) -> tuple[str, date, str]:
    """(subscriber id, local date, record field) of message `sid` (UnknownMessage)."""
    found = message_index.night_for(client, sid)
    if found is None:
        raise UnknownMessage(sid)
    return found


def advance(client: Client, sid: str, status: str, error_code: str = "") -> tuple[bool, str]:
    """Record `status` for message `sid` if it moves forward; (changed, subscriber id)."""
    subscriber_id, day, field = night_for_message(client, sid)
    changed = nights.advance_status(client, subscriber_id, day, status.lower(), error_code,
                                    RANKS, field)
    log.info("status subscriber=%s sid=%s field=%s status=%s error=%s applied=%s",
             subscriber_id, sid, field, status, error_code or "-", bool(changed))
    return bool(changed), subscriber_id
