"""What the inbox shows (`reminders inbox`, /console/inbox): review items joined with their
person, times in the person's zone, the most urgent and then the oldest first; and the people
whose texts the carrier could not deliver (the unreachable list)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from reminders.app.care.review import Reviews, entry, local, overdue
from reminders.domain.subscriber import Subscriber
from reminders.storage.subscribers import Store


def entries(store: Store, reviews: Reviews, now: datetime, include_closed: bool = False
            ) -> list[dict[str, Any]]:
    items = reviews.inbox(include_closed)
    people: dict[str, Subscriber | None] = {}
    found = []
    for item in items:
        sid = item.get("subscriber", "")
        if sid and sid not in people:
            people[sid] = store.get(sid)
        line = entry(item, people.get(sid))
        line["overdue"] = overdue(item, now)
        line["due_local"] = local(item.get("due_by", ""), line["timezone"])
        found.append(line)
    return found


def unreachable_people(store: Store) -> list[dict[str, Any]]:
    """People whose last texts the carrier could not deliver, the latest first."""
    found = []
    for subscriber_id, record in store.unreachable.read_all():
        sub = store.get(subscriber_id)
        if sub is None:
            continue
        found.append({"phone": sub.phone, "name": sub.name, "handle": sub.handle(),
                      "at": record.get("at", ""), "code": record.get("code", ""),
                      "local_at": local(record.get("at", ""), sub.timezone)})
    return sorted(found, key=lambda row: row["at"], reverse=True)
