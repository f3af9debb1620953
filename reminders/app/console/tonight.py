"""The console's Tonight page: who is due now (a page at a time, from the due index) and in
each of the next hours, the capacity forecast (capacity.forecast, what `reminders capacity`
prints) and the last nights' numbers (stats.compute, what `reminders stats` prints).

Nothing here reads every record or every due-index entry per view: the counts are kept
(storage/tally.py), the people due per minute come from the dispatcher's last count of the due
index (capacity.due_load: at most LOAD_AGE old, else counted by the view, which keeps nothing),
and the people listed are the first of the due index's shards.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from reminders.app.evenings import capacity
from reminders.app.records import stats
from reminders.app.records.person_json import describe_all
from reminders.settings import Settings
from reminders.storage.subscribers import Store

# The hour now under way and the 24 after it: every instant of the next 24 hours is in one.
HOURS = 25
SOON = timedelta(hours=1)
LISTED_SOON = 50
# How old a count of the due index the page shows: the dispatcher counts every CHECK_PERIOD
# (at most, and about that often while it runs); older or absent, the view counts for itself
# (and keeps nothing: a GET writes nothing).
LOAD_AGE = 2 * capacity.CHECK_PERIOD_SECONDS
# Pages of people due soon: each page reads the first page * LISTED_SOON of each shard.
MAX_PAGE = 200


@dataclass(frozen=True)
class Tonight:
    due_soon: list[dict[str, Any]]  # `show` rows of a page of the people due within SOON
    due_soon_total: int
    hours: list[tuple[datetime, int]]  # (start of the hour, UTC; how many are due in it)
    stats: dict[str, Any]  # stats.compute for the last `nights` nights
    forecast: capacity.Forecast  # the next 24 hours at TWILIO_MPS
    counted_at: datetime  # when the due index was counted (hours, due_soon_total, forecast)
    page: int = 1
    pages: int = 1


def tonight(store: Store, settings: Settings, now: datetime, nights: int = 14,
            page: int = 1) -> Tonight:
    now = now.astimezone(UTC)
    load = capacity.due_load(store, now, LOAD_AGE, keep=False)
    hour = datetime.fromtimestamp(load.first, UTC)
    minutes = load.counts
    starts = [hour + timedelta(hours=n) for n in range(HOURS)]
    per_hour = [sum(minutes[60 * n:60 * n + 60]) for n in range(HOURS)]
    soon_end = now + SOON
    # Overdue (not claimed yet) and due before the end of the minute an hour from now.
    soon_total = load.backlog + sum(minutes[:int((soon_end - hour).total_seconds()) // 60 + 1])
    pages = max(1, min(MAX_PAGE, -(-soon_total // LISTED_SOON)))
    page = min(max(page, 1), pages)
    due = store.due.due_before(soon_end.timestamp(), page * LISTED_SOON)
    soon = [sub for subscriber_id, _ in due[(page - 1) * LISTED_SOON:]
            if (sub := store.get(subscriber_id)) is not None]
    return Tonight(list(describe_all(store, soon, now)), soon_total,
                   list(zip(starts, per_hour, strict=True)),
                   stats.compute(store, nights, now),
                   capacity.forecast(store, settings, None, now, load),
                   datetime.fromtimestamp(load.counted_at, UTC), page, pages)
