"""Foot problems people report by text (red flags): record, list and clear them.

The reports live in storage/flags.py (a list per person, and who has one). The restriction
itself, "no massage and no heat until this evening", is the subscriber's `flag_until`, written
through Store.save with a line in the consent/audit log, so the nightly text never depends on
those lists. A flag closes when an operator clears it (after calling the person) or when
FLAG_EVENINGS evenings have passed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from reminders.domain.subscriber import Subscriber, now_iso
from reminders.storage import flags as reports_store
from reminders.storage import keys
from reminders.storage.client import Client, Pipeline
from reminders.storage.subscribers import ConsentEvent, Store


@dataclass(frozen=True)
class OpenFlag:
    subscriber: Subscriber
    reports: list[dict[str, str]]  # [{"at", "category", "text"}], oldest first

    @property
    def oldest(self) -> str:
        return self.reports[0]["at"] if self.reports else ""


def record(store: Store, sub: Subscriber, category: str, words: str, evening: date,
           now: datetime) -> Subscriber:
    """Open (or extend) a flag: from `evening` on, FLAG_EVENINGS more evenings without massage
    or heat, the report listed for follow-up, and counted for /metrics."""
    until = evening + timedelta(days=keys.FLAG_EVENINGS)
    if sub.flag_until is not None and sub.flag_until > until:
        until = sub.flag_until
    after = store.save(sub, sub.with_changes(flag_until=until),
                       [ConsentEvent("sms", f"flag:{category}", "sms", words)], now)
    reports_store.add(store.redis, sub.id,
                      {"at": now_iso(now), "category": category, "text": words[:160]},
                      now.timestamp())
    return after


def reports(client: Client, sub: Subscriber, now: datetime) -> list[dict[str, str]]:
    """The person's open reports, oldest first; [] once cleared or past its evenings."""
    return reports_store.read(client, sub.id) if is_open(sub, now) else []


def read_in(pipe: Pipeline, subscriber_id: str) -> None:
    """Queue the read of a person's reports in a caller's pipeline (show/list, batched)."""
    reports_store.read_in(pipe, subscriber_id)


def decoded(sub: Subscriber, raw: list[bytes], now: datetime) -> list[dict[str, str]]:
    return reports_store.decode(raw) if is_open(sub, now) else []


def is_open(sub: Subscriber, now: datetime) -> bool:
    if sub.flag_until is None:
        return False
    return sub.flag_open_on(now.astimezone(ZoneInfo(sub.timezone)).date())


def all_open(store: Store, now: datetime) -> list[OpenFlag]:
    """Everyone with an open flag, the longest waiting first (for the people who call back)."""
    found = []
    for subscriber_id in reports_store.open_ids(store.redis):
        sub = store.get(subscriber_id)
        if sub is None:
            continue
        open_reports = reports(store.redis, sub, now)
        if open_reports:
            found.append(OpenFlag(sub, open_reports))
    return found


def clear(store: Store, sub: Subscriber, note: str, by: str, now: datetime,
          source: str = "cli") -> Subscriber:
    """Close the person's flag: massage and heat come back as their own settings allow. The
    audit line says who (`by`), from where (`source`: cli or console) and their note."""
    words = f"{by}: {note}" if note else by
    after = store.save(sub, sub.with_changes(flag_until=None),
                       [ConsentEvent("sms", "flag_cleared", source, words)], now)
    reports_store.remove(store.redis, sub.id)
    return after
