"""An evening call's outcome from its status callback: busy, no answer or failed gets one more
call VOICE_RETRY_MINUTES later if that is still inside the evening's late limit; otherwise,
or after that second call, the evening's call is recorded missed with the reason.

The second call takes the one send path like the first (a task for the same person and local
date; the night record's `voice_not_before` holds every attempt back until the retry time), so
it is still at most one call at a time, and never one after the late limit. The status itself
moves forward on the night record as a text's does (delivery_status.advance).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from reminders.app.sending.delivery_status import UnknownMessage, advance, target_of
from reminders.domain import policies
from reminders.domain.schedule import send_instant
from reminders.storage.subscribers import Store

log = logging.getLogger(__name__)

NOT_REACHED = ("busy", "no-answer", "failed")
REDIAL_FIELD = "voice_redial"  # on the night record: the evening's second call was asked for


@dataclass(frozen=True)
class Redial:
    subscriber_id: str
    local_date: date
    at: datetime  # not before


def on_status(store: Store, sid: str, status: str, late_limit: timedelta,
              retry_after: timedelta, now: datetime) -> Redial | None:
    """Record the call's `status`; the second call to hand to a worker, if one is due."""
    changed, _ = advance(store, sid, status)
    target = target_of(store, sid)
    if not changed or status not in NOT_REACHED or target.day is None:
        return None
    record = store.nights.read(target.subscriber_id, target.day)
    if record.get(f"{target.field}_id") != sid:
        return None  # an earlier call of the evening: the later one decides
    ledger = store.ledgers.night(target.subscriber_id, target.day, target.field)
    sub = store.get(target.subscriber_id)
    at = now + retry_after
    if sub is not None and record.get(REDIAL_FIELD) != "1":
        tz = ZoneInfo(sub.timezone)
        due = send_instant(target.day, sub.send_time, tz)
        if at <= policies.deadline(target.day, due, tz, late_limit, None):
            store.nights.note(sub.id, target.day, **{REDIAL_FIELD: "1"})
            ledger.release(status, None, at.timestamp())
            log.info("voice redial subscriber=%s date=%s after=%s at=%s", sub.id, target.day,
                     status, at.isoformat())
            return Redial(sub.id, target.day, at)
    store.nights.release_for_retry(target.subscriber_id, target.day, target.field, status)
    ledger.finish("missed", reason=status)
    log.warning("voice missed subscriber=%s date=%s reason=%s", target.subscriber_id,
                target.day, status)
    return None


__all__ = ["NOT_REACHED", "Redial", "UnknownMessage", "on_status"]
