"""The care-team loop's figures (`stats`, the console's inbox, /metrics): per ISO week, the
median time to acknowledge by level, items closed with each outcome, items past their
deadline, check-ins sent and answered, escalations by stage; and the open items by level and
age. Read from the review items (storage/review.py) and the weekly counters."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from statistics import median
from typing import Any

from reminders.app.care.review import OUTCOMES
from reminders.app.care.silence import iso_week
from reminders.domain.deadlines import LEVELS, deadline_level
from reminders.storage import counters
from reminders.storage.subscribers import Store

# Age buckets of open items (upper bounds in hours; the last is "older").
AGE_BUCKETS = (("under_1h", 1), ("1h_4h", 4), ("4h_24h", 24), ("1d_3d", 72), ("over_3d", None))
WEEKLY_COUNTERS = ("checkin_sent", "checkin_answered", "escalated_1", "escalated_2")


def _at(iso: str) -> datetime | None:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")) if iso else None


def age_bucket(hours: float) -> str:
    return next(name for name, bound in AGE_BUCKETS if bound is None or hours < bound)


def open_by_level_and_age(store: Store, now: datetime) -> dict[str, dict[str, int]]:
    found: dict[str, dict[str, int]] = {level: dict.fromkeys(
        (name for name, _ in AGE_BUCKETS), 0) for level in LEVELS}
    for level, opened in store.review.open_levels():
        hours = max(0.0, now.timestamp() - opened) / 3600
        found[deadline_level(level)][age_bucket(hours)] += 1
    return found


def weekly(store: Store, now: datetime, weeks: int = 4) -> list[dict[str, Any]]:
    """The last `weeks` ISO weeks (UTC), newest first."""
    now = now.astimezone(UTC)
    names = [iso_week((now - timedelta(weeks=n)).date()) for n in range(weeks)]
    since = (now - timedelta(weeks=weeks)).timestamp()
    items = store.review.get_many(store.review.open_ids()) + store.review.get_many(
        store.review.closed_ids(since))
    acks: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    outcomes: dict[str, Counter[str]] = defaultdict(Counter)
    late: Counter[str] = Counter()
    for item in items:
        opened, due = _at(item.get("at", "")), _at(item.get("due_by", ""))
        if opened is None or due is None:
            continue
        week = iso_week(opened.date())
        taken = _at(item.get("taken_at", ""))
        if taken is not None:
            acks[week][deadline_level(item.get("level", ""))].append(
                (taken - opened).total_seconds() / 60)
        if (taken or now) > due:
            late[week] += 1
        closed = _at(item.get("closed_at", ""))
        if closed is not None and item.get("outcome"):
            outcomes[iso_week(closed.date())][item["outcome"]] += 1
    counts = store.counters.read_all()
    return [{"week": week,
             "ack_median_minutes": {level: round(median(values), 1)
                                    for level, values in acks[week].items()},
             "outcomes": {name: outcomes[week][name] for name in OUTCOMES},
             "past_deadline": late[week],
             **{name: int(counts.get(counters.loop(name, week), 0))
                for name in WEEKLY_COUNTERS}}
            for week in names]


def figures(store: Store, now: datetime, weeks: int = 4) -> dict[str, Any]:
    return {"weeks": weekly(store, now, weeks),
            "open": open_by_level_and_age(store, now)}
