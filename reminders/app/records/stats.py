"""`reminders stats`: subscribers by consent state (and every other kept count: channel,
language, cause, zone, open flags), and what happened on each recent night; `stats --recount`.

Night counters come from the per-date hashes (storage/night_stats.py) that the night records'
scripts increment (sent, failed, missed, skipped with its reason; delivered, undelivered, failed
from status callbacks). The dates are local dates: a night in Chicago and one in Tokyo on the
same calendar date add up in the same row.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from reminders.app.sending import guards
from reminders.domain import channels
from reminders.domain.subscriber import DECODE_ERRORS, EMAIL_STATES, SMS_STATES
from reminders.storage import counters, engagement, tally
from reminders.storage.subscribers import Store

CHANNELS = channels.names()  # every declared channel (domain/channels.py)
# Skip reasons that mean "this person said no" (sms: STOP, email: unsubscribe link).
OPT_OUT_REASONS = ("opted_out", "unsubscribed")
MAX_DAYS = 400  # the per-date counters live 400 days (keys.STATS_TTL_SECONDS)
LISTED_UNREADABLE = 20  # ids shown of the records that cannot be read


def compute(store: Store, days: int = 7, now: datetime | None = None) -> dict[str, Any]:
    """{"subscribers": {...}, "counts": {...}, "nights": [...], "unreadable": {...}} for the
    last `days` local dates, newest first: read from the kept counts (storage/tally.py), a few
    commands whatever the number of people.

    "Today" is the latest local date any subscriber is on right now (their zones are counted
    too), so the first row is tonight for the people furthest east (UTC's date when there are
    no subscribers).
    """
    now = now or datetime.now(UTC)
    kept = store.tally.read()
    today = latest_local_date(kept.of("zone"), now)
    return {"subscribers": by_state(store, kept, now), "counts": kept.counts,
            "nights": nights(store, today, days), "unreadable": unreadable(store, kept)}


def recount(store: Store, now: datetime) -> tally.Drift:
    """`stats --recount`: every record counted again (and checked: the ones that do not
    decode are kept for `stats`), the kept counts corrected; the drift found. The same pass
    counts the recent evenings again for engagement (storage/engagement.py)."""
    bad: list[str] = []

    def pages() -> Iterator[list[str]]:
        page: list[str] = []
        for subscriber_id, found in store.records():
            if found is None:
                continue  # forgotten between the SCAN and the read
            try:
                guards.readable(found, subscriber_id)
            except guards.Unreadable:
                bad.append(subscriber_id)
            page.append(subscriber_id)
            if len(page) >= tally.PAGE:
                yield page
                page = []
        yield page

    # rebuild() reads `bad` only after it has consumed every page.
    found = store.tally.rebuild(pages(), bad, now.timestamp())
    drift = store.engagement.recount(engagement.recount_dates(now))
    return replace(found, fields={**found.fields, **drift})


def unreadable(store: Store, kept: tally.Tally) -> dict[str, Any]:
    """Records that could not be read at the last recount, and how often dispatch and send
    skipped one so far (counted as it happens)."""
    places = ("dispatch", "send")
    counted = store.counters.read([counters.unreadable(where) for where in places])
    return {"records": kept.unreadable, "ids": kept.unreadable_ids[:LISTED_UNREADABLE],
            "recounted_at": kept.recounted or None,
            "skipped": dict(zip(places, counted, strict=True))}


def unreadable_line(found: dict[str, Any]) -> str | None:
    """The line `reminders stats` prints about unreadable records (None when there are none)."""
    if not found["records"]:
        return None
    return (f"Unreadable records: {found['records']} ({', '.join(found['ids'])}) at the last "
            "recount; skipped when due, the worker log names the reason")


def latest_local_date(zones: Iterable[str], now: datetime) -> date:
    dates = []
    for zone in zones:
        try:
            dates.append(now.astimezone(ZoneInfo(zone)).date())
        except DECODE_ERRORS:
            continue  # a damaged record's zone: the recount lists it
    return max(dates, default=now.astimezone(UTC).date())


def by_state(store: Store, kept: tally.Tally, now: datetime) -> dict[str, Any]:
    return {
        "sms": _with_zeros(kept.of("sms"), SMS_STATES),
        "email": _with_zeros(kept.of("email"), EMAIL_STATES),
        # Paused through today (UTC's date) or later.
        "paused": store.tally.paused_on(now.astimezone(UTC).date()),
        "flags_open": kept.of("flag").get("open", 0),
        "total": kept.total,
    }


def _with_zeros(counts: dict[str, int], known: tuple[str, ...]) -> dict[str, int]:
    """Every known state (0 when nobody is in it), then any unexpected one that was found."""
    return {state: counts.get(state, 0) for state in (*known, *sorted(set(counts) - set(known)))}


def nights(store: Store, today: date, days: int) -> list[dict[str, Any]]:
    dates = [today - timedelta(days=n) for n in range(days)]
    return [{"date": day.isoformat(),
             **{channel: channel_night(counted, channel) for channel in CHANNELS}}
            for day, counted in zip(dates, store.night_stats.read(dates), strict=True)]


def channel_night(counters: dict[str, int], channel: str) -> dict[str, Any]:
    """One channel's numbers for one night.

    `failed` counts every message that did not reach the person for a provider reason: refused
    when sent (never counted as sent) and reported failed or undelivered by a status callback
    afterwards (already counted as sent). Skips are counted once per person and night.
    """
    def get(name: str) -> int:
        return counters.get(f"{channel}_{name}", 0)

    skipped = get("skipped")
    opted_out = sum(get(f"skipped:{reason}") for reason in OPT_OUT_REASONS)
    paused = get("skipped:paused")
    return {
        "sent": get("sent"),
        "delivered": get("delivered"),
        "failed": get("failed") + get("undelivered"),
        "missed": get("missed"),
        "skipped": skipped,
        "skipped_by_reason": {"opted_out": opted_out, "paused": paused,
                              "other": max(skipped - opted_out - paused, 0)},
    }

