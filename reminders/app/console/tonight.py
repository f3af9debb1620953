"""The console's Tonight page: tonight's people (everyone due from now until the end of the
service's evening window, a page at a time, from the due index), how many are due in each of
the next hours, the capacity forecast (capacity.forecast, what `reminders capacity` prints)
and the last nights' numbers (stats.compute, what `reminders stats` prints).

Tonight ends where the evening window (SEND_WINDOW's end; the state windows only narrow it)
ends in the last of the zones people live in (the kept count by zone, storage/tally.py), for
the evening under way or next; never more than 24 hours ahead.

Nothing here reads every record or every due-index entry per view: the counts are kept
(storage/tally.py), the people due per minute come from the dispatcher's last count of the due
index (capacity.due_load: at most LOAD_AGE old, else counted by the view, which keeps nothing),
and a page of people is read from the due index after the previous page's last (instant, id)
(due_index.due_before: a few entries of each shard, not all of them).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from reminders.app.evenings import capacity
from reminders.app.records import stats
from reminders.app.records.person_json import describe_all
from reminders.domain.windows import Window
from reminders.settings import Settings
from reminders.storage.subscribers import Store

# The hour now under way and the 24 after it: every instant of the next 24 hours is in one.
HOURS = 25
PER_PAGE = 50
# Tonight is never longer than this from now (zones far apart would make it longer).
AT_MOST = timedelta(hours=24)
# How old a count of the due index the page shows: the dispatcher counts every CHECK_PERIOD
# (at most, and about that often while it runs); older or absent, the view counts for itself
# (and keeps nothing: a GET writes nothing).
LOAD_AGE = 2 * capacity.CHECK_PERIOD_SECONDS
_CURSOR = re.compile(r"(\d{1,12}(?:\.\d{1,9})?):([\w-]{1,64})")


@dataclass(frozen=True)
class Tonight:
    rows: list[dict[str, Any]]  # `show` rows of a page of tonight's people, by due time
    total: int  # people due from now to `until` (and overdue), as the due index was counted
    until: datetime  # the last minute of tonight's evening window (UTC), included
    until_zone: str  # the zone where tonight ends last
    hours: list[tuple[datetime, int]]  # (start of the hour, UTC; how many are due in it)
    stats: dict[str, Any]  # stats.compute for the last `nights` nights
    forecast: capacity.Forecast  # the next 24 hours at TWILIO_MPS
    counted_at: datetime  # when the due index was counted (hours, total, forecast)
    page: int = 1
    pages: int = 1
    next_after: str = ""  # the next page's cursor ("" on the last page)


def tonight_ends(zones: Iterable[str], window: Window, now: datetime
                 ) -> tuple[datetime, str]:
    """(The last minute of tonight's evening window, UTC; in which zone). Tonight is the
    evening of the first date whose window has not ended in every zone people live in: it ends
    where that date's window ends last (SEND_WINDOW's end is the last minute a person can
    choose), and not before any evening under way now. At most AT_MOST from now."""
    now = now.astimezone(UTC)
    places = sorted(set(zones)) or ["UTC"]
    found: list[tuple[datetime, str]] = []
    for zone in places:  # evenings under way (a zone a day ahead of the others)
        here = now.astimezone(ZoneInfo(zone))
        start = datetime.combine(here.date(), window.start, here.tzinfo)
        end = datetime.combine(here.date(), window.end, here.tzinfo)
        if start <= now < end + timedelta(minutes=1):
            found.append((end, zone))
    for days in range(-1, 3):  # the first date whose evening is not over everywhere
        day = now.date() + timedelta(days=days)
        last = max((datetime.combine(day, window.end, ZoneInfo(zone)), zone)
                   for zone in places)
        if now < last[0] + timedelta(minutes=1):
            found.append(last)
            break
    end, zone = max(found)
    return min(end.astimezone(UTC), now + AT_MOST), zone


def cursor(after: str) -> tuple[float, str] | None:
    """A page link's `after` (instant:id) as due_index.due_before takes it; None: the first
    page (absent or not one)."""
    found = _CURSOR.fullmatch(after or "")
    return (float(found.group(1)), found.group(2)) if found else None


def tonight(store: Store, settings: Settings, now: datetime, nights: int = 14,
            page: int = 1, after: str = "") -> Tonight:
    now = now.astimezone(UTC)
    load = capacity.due_load(store, now, LOAD_AGE, keep=False)
    hour = datetime.fromtimestamp(load.first, UTC)
    minutes = load.counts
    starts = [hour + timedelta(hours=n) for n in range(HOURS)]
    per_hour = [sum(minutes[60 * n:60 * n + 60]) for n in range(HOURS)]
    zones = store.tally.read().counts.get("zone", {}) or {settings.fallback_timezone: 1}
    until, until_zone = tonight_ends(zones, settings.windows.general, now)
    end = until + timedelta(minutes=1)  # the last minute's people are tonight's too
    # Overdue (not claimed yet) and due before `end`, as the due index was counted.
    total = load.backlog + sum(minutes[:-(-int((end - hour).total_seconds()) // 60)])
    pages = max(1, -(-total // PER_PAGE))
    start = cursor(after)
    page = min(max(page, 1), pages) if start is not None else 1
    due = store.due.due_before(end.timestamp(), PER_PAGE + 1, start)
    listed = [sub for subscriber_id, _ in due[:PER_PAGE]
              if (sub := store.get(subscriber_id)) is not None]
    next_after = (f"{due[PER_PAGE - 1][1]!r}:{due[PER_PAGE - 1][0]}"
                  if len(due) > PER_PAGE else "")
    return Tonight(list(describe_all(store, listed, now)), total, until, until_zone,
                   list(zip(starts, per_hour, strict=True)),
                   stats.compute(store, nights, now),
                   capacity.forecast(store, settings, None, now, load),
                   datetime.fromtimestamp(load.counted_at, UTC), page,
                   max(pages, page + (1 if next_after else 0)), next_after)
