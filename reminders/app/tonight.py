"""The console's Tonight page: who is due now and in each of the next hours, the capacity
forecast (capacity.forecast, what `reminders capacity` prints) and the last nights' numbers
(stats.compute, what `reminders stats` prints)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from reminders.app import capacity, stats
from reminders.app.report import describe_all
from reminders.settings import Settings
from reminders.storage import due_index
from reminders.storage.subscribers import Store

# The hour now under way and the 24 after it: every instant of the next 24 hours is in one.
HOURS = 25
SOON = timedelta(hours=1)
LISTED_SOON = 50


@dataclass(frozen=True)
class Tonight:
    due_soon: list[dict[str, Any]]  # `show` rows of the first people due within SOON
    due_soon_total: int
    hours: list[tuple[datetime, int]]  # (start of the hour, UTC; how many are due in it)
    stats: dict[str, Any]  # stats.compute for the last `nights` nights
    forecast: capacity.Forecast  # the next 24 hours at TWILIO_MPS


def tonight(store: Store, settings: Settings, now: datetime, nights: int = 14) -> Tonight:
    now = now.astimezone(UTC)
    hour = now.replace(minute=0, second=0, microsecond=0)
    overdue, minutes = due_index.count_by_minute(store.redis, int(hour.timestamp()), HOURS * 60)
    starts = [hour + timedelta(hours=n) for n in range(HOURS)]
    per_hour = [sum(minutes[60 * n:60 * n + 60]) for n in range(HOURS)]
    soon_end = now + SOON
    # Overdue (not claimed yet) and due before the end of the minute an hour from now.
    soon_total = overdue + sum(minutes[:int((soon_end - hour).total_seconds()) // 60 + 1])
    soon = [sub for subscriber_id, _ in
            due_index.due_before(store.redis, soon_end.timestamp(), LISTED_SOON)
            if (sub := store.get(subscriber_id)) is not None]
    return Tonight(list(describe_all(store, soon, now)), soon_total,
                   list(zip(starts, per_hour, strict=True)),
                   stats.compute(store.redis, nights, now),
                   capacity.forecast(store.redis, settings, None, now))
