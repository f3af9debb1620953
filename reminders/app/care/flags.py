"""Foot problems people report by text (flags): record, list and close them.

The reports live in storage/flags.py (a list per person, and who has one). The restriction
itself (no massage, heat, walking or standing items while a problem is open) is the subscriber's
`flag_until`, written through Store.save with a line in the consent/audit log, so the nightly
text never depends on those lists. A flag never closes by itself: it is open (`flag_until` is
OPEN_UNTIL_CLOSED) until an operator closes it with an outcome and a note, after speaking to
the person or trying to. (Flags opened by an earlier version carry a real date and close on it.)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from reminders.domain.subscriber import Subscriber, now_iso
from reminders.storage.subscribers import ConsentEvent, Store

# "Until an operator closes it": the latest date there is, so every evening is before it.
OPEN_UNTIL_CLOSED = date.max
# How a follow-up ended (DESIGN.md `flags clear --outcome`).
OUTCOMES = ("reached", "left_message", "referred", "unreachable", "not_a_problem")


@dataclass(frozen=True)
class OpenFlag:
    subscriber: Subscriber
    reports: list[dict[str, str]]  # [{"at", "category", "level", "text"}], oldest first

    @property
    def oldest(self) -> str:
        return self.reports[0]["at"] if self.reports else ""


def record(store: Store, sub: Subscriber, category: str, level: str, words: str,
           now: datetime) -> Subscriber:
    """Open (or add to) the person's flag: no massage, heat, walking or standing items until
    an operator closes it; the report listed for follow-up (for the care team, never for a
    caregiver), and counted for /metrics."""
    after = sub
    if sub.flag_until != OPEN_UNTIL_CLOSED:
        after = store.save(sub, sub.with_changes(flag_until=OPEN_UNTIL_CLOSED),
                           [ConsentEvent("sms", f"flag:{category}", "sms", words)], now)
    store.reports.add(sub.id,
                      {"at": now_iso(now), "category": category, "level": level,
                       "text": words[:160]},
                      now.timestamp())
    return after


def reports(store: Store, sub: Subscriber, now: datetime) -> list[dict[str, str]]:
    """The person's open reports, oldest first; [] once cleared."""
    return store.reports.read(sub.id) if is_open(sub, now) else []


def is_open(sub: Subscriber, now: datetime) -> bool:
    if sub.flag_until is None:
        return False
    return sub.flag_open_on(now.astimezone(ZoneInfo(sub.timezone)).date())


def all_open(store: Store, now: datetime) -> list[OpenFlag]:
    """Everyone with an open flag, the longest waiting first (for the people who call back)."""
    found = []
    for subscriber_id in store.reports.open_ids():
        sub = store.get(subscriber_id)
        if sub is None:
            continue
        open_reports = reports(store, sub, now)
        if open_reports:
            found.append(OpenFlag(sub, open_reports))
    return found


def clear(store: Store, sub: Subscriber, note: str, by: str, now: datetime,
          source: str = "cli", outcome: str = "") -> Subscriber:
    """Close the person's flag: massage and heat come back as their own settings allow. The
    audit line says who (`by`), from where (`source`: cli or console), the outcome (one of
    OUTCOMES; the console does not ask for one yet) and their note."""
    if outcome and outcome not in OUTCOMES:
        raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)}")
    said = f"{outcome}: {note}" if outcome else note
    words = f"{by}: {said}" if said else by
    after = store.save(sub, sub.with_changes(flag_until=None),
                       [ConsentEvent("sms", "flag_cleared", source, words)], now)
    store.reports.remove(sub.id)
    return after
