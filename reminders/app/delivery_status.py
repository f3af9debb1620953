"""Delivery status from the provider's callbacks: forward only, terminal states stay put.

Callbacks arrive out of order and more than once; a late `sent` must never overwrite
`delivered`. The comparison runs inside Redis (storage/lua/night_status.lua) so two callbacks
racing cannot interleave.
"""

from __future__ import annotations

import logging
from datetime import date

from reminders.domain.states import DELIVERY_RANKS as RANKS
from reminders.storage import nights
from reminders.storage.client import Client

log = logging.getLogger(__name__)

class UnknownMessage(LookupError):
    """A callback for a message we did not send (or whose record has expired)."""


def night_for_message(client: Client, sid: str) -> tuple[str, date]:
    found = nights.night_for_message(client, sid)
    if found is None:
        raise UnknownMessage(sid)
    return found


def advance(client: Client, sid: str, status: str, error_code: str = "") -> tuple[bool, str]:
    """Record `status` for message `sid` if it moves forward; (changed, subscriber id)."""
    subscriber_id, day = night_for_message(client, sid)
    changed = nights.advance_status(client, subscriber_id, day, status.lower(), error_code,
                                    RANKS)
    log.info("status subscriber=%s sid=%s status=%s error=%s applied=%s", subscriber_id, sid,
             status, error_code or "-", bool(changed))
    return bool(changed), subscriber_id
