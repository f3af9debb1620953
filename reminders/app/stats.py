"""`reminders stats`: subscribers by consent state, and what happened on each recent night.

Night counters come from the per-date hashes (storage/night_stats.py) that the night records'
scripts increment (sent, failed, missed, skipped with its reason; delivered, undelivered, failed
from status callbacks). The dates are local dates: a night in Chicago and one in Tokyo on the
same calendar date add up in the same row.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from reminders.app import flags, windows
from reminders.domain import channels
from reminders.domain.subscriber import DECODE_ERRORS, EMAIL_STATES, SMS_STATES, Subscriber
from reminders.domain.windows import DEFAULT_WINDOWS, Windows
from reminders.storage import counters, night_stats
from reminders.storage.client import Client
from reminders.storage.subscribers import Store

CHANNELS = channels.names()  # every declared channel (domain/channels.py)
# Skip reasons that mean "this person said no" (sms: STOP, email: unsubscribe link).
OPT_OUT_REASONS = ("opted_out", "unsubscribed")
MAX_DAYS = 400  # the per-date counters live 400 days (keys.STATS_TTL_SECONDS)
LISTED_UNREADABLE = 20  # ids shown of the records that cannot be read


def compute(client: Client, days: int = 7, now: datetime | None = None,
            send_windows: Windows = DEFAULT_WINDOWS) -> dict[str, Any]:
    """{"subscribers": {...}, "nights": [...], "unreadable": {...}, "outside_window": [...]}
    for the last `days` local dates, newest first. `outside_window`: the people whose time is
    outside their send window (app/windows.py), moved only by `reminders window-apply`.

    "Today" is the latest local date any subscriber is on right now, so the first row is
    tonight for the people furthest east (UTC's date when there are no subscribers).
    """
    now = now or datetime.now(UTC)
    subs, bad = readable_subscribers(client)
    today = latest_local_date(subs, now)
    return {"subscribers": by_state(subs, now), "nights": nights(client, today, days),
            "unreadable": unreadable(client, bad),
            "outside_window": [item.row() for item in windows.outside(subs, send_windows)]}


def readable_subscribers(client: Client) -> tuple[list[Subscriber], list[str]]:
    """Every subscriber whose record decodes (zone included), and the ids of those that do not
    (the dispatcher skips them: see guards.py)."""
    bad: list[str] = []
    subs = []
    for sub in Store(client).all(unreadable=bad):
        try:
            ZoneInfo(sub.timezone)
        except DECODE_ERRORS:
            bad.append(sub.id)
            continue
        subs.append(sub)
    return subs, sorted(bad)


def unreadable(client: Client, bad: list[str]) -> dict[str, Any]:
    """Records that cannot be read now, and how often dispatch and send skipped one so far."""
    places = ("dispatch", "send")
    counted = counters.read(client, [counters.unreadable(where) for where in places])
    return {"records": len(bad), "ids": bad[:LISTED_UNREADABLE],
            "skipped": dict(zip(places, counted, strict=True))}


def unreadable_line(found: dict[str, Any]) -> str | None:
    """The line `reminders stats` prints about unreadable records (None when there are none)."""
    if not found["records"]:
        return None
    return (f"Unreadable records: {found['records']} ({', '.join(found['ids'])}); skipped when "
            "due, the worker log names the reason")


def latest_local_date(subs: list[Subscriber], now: datetime) -> date:
    zones = {sub.timezone for sub in subs}
    return max((now.astimezone(ZoneInfo(zone)).date() for zone in zones),
               default=now.astimezone(UTC).date())


def by_state(subs: list[Subscriber], now: datetime) -> dict[str, Any]:
    sms = Counter(str(sub.sms_status) for sub in subs)
    email = Counter(str(sub.email_status) for sub in subs)
    paused = sum(1 for sub in subs
                 if sub.is_paused_on(now.astimezone(ZoneInfo(sub.timezone)).date()))
    return {
        "sms": _with_zeros(sms, SMS_STATES),
        "email": _with_zeros(email, EMAIL_STATES),
        "paused": paused,
        "flags_open": sum(1 for sub in subs if flags.is_open(sub, now)),
        "total": len(subs),
    }


def _with_zeros(counts: Counter[str], known: tuple[str, ...]) -> dict[str, int]:
    """Every known state (0 when nobody is in it), then any unexpected one that was found."""
    return {state: counts.get(state, 0) for state in (*known, *sorted(set(counts) - set(known)))}


def nights(client: Client, today: date, days: int) -> list[dict[str, Any]]:
    dates = [today - timedelta(days=n) for n in range(days)]
    return [{"date": day.isoformat(),
             **{channel: channel_night(counted, channel) for channel in CHANNELS}}
            for day, counted in zip(dates, night_stats.read(client, dates), strict=True)]


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

