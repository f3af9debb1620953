"""`reminders send-now PHONE`: tonight's reminder, now; a busy provider hands it to a worker.

The command sends in its own process, like a worker would (claim before send, so still once per
local date). When the provider answers 429 or 5xx (or another attempt holds the night), the
command does not wait and retry itself: it enqueues `reminders.send_reminder` for the same
(person, local date), delayed by the provider's Retry-After when it gave one, and says so in
one line. The night record makes that task send at most once; the task may send until the late
limit counted from when send-now was asked (`not_after`), as if the evening had been due then.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from kombu.exceptions import OperationalError

from reminders.app.evenings.nightly import RetryLater
from reminders.domain.schedule import send_instant
from reminders.domain.subscriber import Subscriber
from reminders.storage.client import RedisUnavailable
from reminders.wiring import Services

# The hand-off's first try comes at most this much later, whatever the provider asked.
MAX_FIRST_DELAY = timedelta(minutes=5)


class HandOffFailed(RedisUnavailable):
    """The broker did not take the task: nothing will retry this evening."""


def send_now(svc: Services, sub: Subscriber, now: datetime) -> list[str]:
    """Send tonight's reminder; the lines to print (one per channel, or one for a hand-off)."""
    tz = ZoneInfo(sub.timezone)
    day = now.astimezone(tz).date()
    try:
        outcome = svc.sender.deliver(sub.id, day, now, ignore_late=True)
    except RetryLater as exc:
        channels = exc.outcome.channels if exc.outcome is not None else {"sms": "retry"}
        lines = [f"{channel}: {result} ({day})" for channel, result in channels.items()
                 if result != "retry"]
        retrying = "+".join(channel for channel, result in channels.items() if result == "retry")
        not_after = hand_off(svc, sub, now, exc)
        lines.append(f"{retrying}: not sent yet ({exc.reason}); handed to a worker, which sends "
                     f"it once by {not_after.astimezone(tz):%H:%M} {sub.timezone} ({day})")
        return lines
    return [f"{channel}: {result} ({day})"
            for channel, result in outcome.channels.items() or [("sms", "nothing to send")]]


def hand_off(svc: Services, sub: Subscriber, now: datetime, exc: RetryLater) -> datetime:
    """Enqueue the evening for a worker; the instant after which it will not be sent."""
    from reminders.entry.celery.app import send_reminder  # Celery only when it is needed

    tz = ZoneInfo(sub.timezone)
    day = now.astimezone(tz).date()
    due = send_instant(day, sub.send_time, tz)
    not_after = max(due, now) + svc.sender.late_limit
    delay = min(max(exc.delay or 1.0, 1.0), MAX_FIRST_DELAY.total_seconds())
    try:
        send_reminder.apply_async(args=(sub.id, day.isoformat()),
                                  kwargs={"not_after": not_after.timestamp()}, countdown=delay)
    except OperationalError as error:
        raise HandOffFailed(f"could not hand the evening to a worker: {error}") from error
    return not_after
