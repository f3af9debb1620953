"""What the send path refuses to act on: records it cannot read, evenings no task should name.

One subscriber hash that does not decode (a zone missing from tzdata such as `America/Nowhere`,
a time like `25:99`, a field that is not UTF-8) must not stop the people next to it in a dispatch
batch, nor crash a send task before its late check. Such a record is skipped, logged with its
reason and counted in the metrics (`unreadable:dispatch`, `unreadable:send`); `reminders stats`
lists how many records are unreadable right now.

Broker messages are not trusted either: a send task names a local date, and only tonight or last
night (an evening whose late limit runs past midnight) in the person's own zone can be due. Any
other date is refused (`rejected:date`) and nothing is written for it, so a forged or replayed
task cannot use up a future evening or send one early.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from reminders.domain.subscriber import DECODE_ERRORS, Subscriber
from reminders.storage import counters
from reminders.storage.subscriber_codec import Undecodable
from reminders.storage.subscribers import Store

log = logging.getLogger(__name__)


class Unreadable(Exception):
    """A subscriber record that cannot be decoded into a schedulable person."""

    def __init__(self, subscriber_id: str, exc: Exception) -> None:
        self.subscriber_id = subscriber_id
        self.reason = f"{type(exc).__name__}: {exc}"[:200]
        super().__init__(self.reason)


def readable(found: Subscriber | Undecodable, subscriber_id: str
             ) -> tuple[Subscriber, ZoneInfo]:
    """The stored person with their zone loaded; Unreadable if either fails."""
    if isinstance(found, Undecodable):
        raise Unreadable(subscriber_id, found.error) from found.error
    try:
        return found, ZoneInfo(found.timezone)
    except DECODE_ERRORS as exc:
        raise Unreadable(subscriber_id, exc) from exc


def load(store: Store, subscriber_id: str) -> tuple[Subscriber, ZoneInfo] | None:
    """`readable` for a stored person; None when they are gone (forgotten)."""
    found = store.read(subscriber_id)
    return readable(found, subscriber_id) if found is not None else None


def count_unreadable(store: Store, where: str,
                     problems: list[Unreadable], local_date: date | None = None) -> None:
    """Log each skipped record and count them (`where`: dispatch | send)."""
    if not problems:
        return
    for problem in problems:
        log.warning("%s skip subscriber=%s date=%s reason=unreadable error=%r", where,
                    problem.subscriber_id, local_date or "-", problem.reason)
    store.counters.incr(counters.unreadable(where), len(problems))


def skip_unreadable_evening(store: Store, problem: Unreadable, local_date: date,
                            now: datetime) -> None:
    """A send task for a record that cannot be read: count it, record the evening as missed
    (unless the date is far from today anywhere on Earth: a forged task writes nothing) and
    settle it, so the dispatcher does not hand it out again."""
    count_unreadable(store, "send", [problem], local_date)
    utc_today = now.astimezone(UTC).date()
    if utc_today - timedelta(days=2) <= local_date <= utc_today + timedelta(days=1):
        store.nights.give_up(problem.subscriber_id, local_date, now, reason="unreadable")
    store.nights.settle(problem.subscriber_id, local_date)


def reject_date(store: Store, subscriber_id: str, local_date: date, why: str) -> None:
    log.warning("send rejected subscriber=%s date=%s reason=date-out-of-range (%s)",
                subscriber_id, local_date, why)
    store.counters.incr(counters.rejected("date"))
