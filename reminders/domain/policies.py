"""The rules of an evening's send, as pure functions: which channels a person wants, why one
is skipped, which dates a task may name, after which instant nothing is sent, and the window
in which an evening's (or a caregiver alert's) attempts are made."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from reminders.domain import channels as registry
from reminders.domain.schedule import send_instant
from reminders.domain.subscriber import Subscriber


def wants(sub: Subscriber, channel: str) -> bool:
    return sub.wants(channel)


def wanted(sub: Subscriber) -> list[str]:
    """The channels an evening goes out on, in the registry's order."""
    return [name for name in registry.names() if sub.wants(name)]


def skip_reason(sub: Subscriber, channel: str, local_date: date) -> str | None:
    """Why tonight's text (or email) is not sent: the channel's state when it is not active
    (pending, opted_out, invalid, unsubscribed, bouncing), or "paused"; None to send."""
    status = registry.get(channel).state_of(sub)
    if status != "active":
        return str(status)
    if sub.is_paused_on(local_date):
        return "paused"
    return None


def date_problem(local_date: date, now: datetime, tz: ZoneInfo) -> str | None:
    """Why a send task may not name `local_date` (None: tonight or last night, locally)."""
    today = now.astimezone(tz).date()
    if local_date in (today, today - timedelta(days=1)):
        return None
    return "future" if local_date > today else "past"


def deadline(local_date: date, due: datetime, tz: ZoneInfo, late_limit: timedelta,
             not_after: datetime | None) -> datetime:
    """After this instant nothing is sent for the evening: its time plus the late limit, or
    `not_after` (send-now's hand-off counts the limit from when it was asked), but never past
    the end of that local day plus the late limit, whatever a task says."""
    if not_after is None:
        return due + late_limit
    day_end = datetime.combine(local_date + timedelta(days=1), time(0), tz)
    return min(not_after, day_end + late_limit)


# How far the clocks of workers and Redis may disagree (see attempt_window).
CLOCK_MARGIN = timedelta(seconds=5)


def attempt_window(sub: Subscriber, local_date: date, late_limit: timedelta
                   ) -> tuple[datetime, datetime]:
    """When this evening's nightly attempts are made: from its instant (less a margin for
    clocks, workers' and Redis's, that disagree) to its late limit."""
    due = send_instant(local_date, sub.send_time, ZoneInfo(sub.timezone))
    return due - CLOCK_MARGIN, due + late_limit + CLOCK_MARGIN


# How long a caregiver's alert is tried after its report: the alert task's 20 retries, each
# at most 5 minutes (times 1.5 for jitter) apart, end within 2.5 hours; a day leaves room for
# a worker that was down (a restart after it cannot have lost a record of this alert).
ALERT_ATTEMPTS = timedelta(days=1)


def alert_window(key: str) -> tuple[datetime, datetime] | None:
    """When a caregiver alert's attempts are made, from its key "alert:<ms of the report>";
    None for a key that names no instant (nothing to compare a restart with)."""
    kind, _, ms = key.partition(":")
    if kind != "alert" or not ms.isdigit():
        return None
    raised = datetime.fromtimestamp(int(ms) / 1000, UTC)
    return raised - CLOCK_MARGIN, raised + ALERT_ATTEMPTS + CLOCK_MARGIN
