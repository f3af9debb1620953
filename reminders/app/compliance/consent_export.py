"""`reminders consent-export`: every consent event, for an audit (CTIA, TCPA), as CSV or JSONL.

Streamed: the log is read a page at a time (consent_log.export, XRANGE ... COUNT) and each row
is written as soon as it is read, so a million events never sit in memory. Each page's people
are looked up in one pipelined round trip (their current number and address; empty once they
were forgotten). CSV cells that a spreadsheet would run as a formula (starting with = + - @,
a tab or a carriage return) get a leading apostrophe (OWASP's CSV-injection advice): a
number like +12025550100 reads '+12025550100 there, and the export stays safe to open.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import IO

from reminders.app.sending import guards
from reminders.domain.subscriber import Subscriber
from reminders.domain.validation import InvalidInput
from reminders.storage.subscriber_codec import Undecodable
from reminders.storage.subscribers import Store

COLUMNS = ("time", "entry_id", "subscriber_id", "phone", "email", "channel", "action", "how",
           "source", "words", "text_version", "last_confirmed")
# The actions that are a person's own yes (double opt-in, START, the yearly re-confirmation, a
# caregiver's YES): `last_confirmed` is the latest of them for the event's person.
CONFIRMATIONS = frozenset({"confirmed", "opted_in", "reconfirmed", "caregiver_yes",
                           "care_yes"})
# How each recorded source reads in an audit.
HOW = {"cli": "CLI (operator)", "sms": "text message", "import": "CSV import",
       "email": "email link", "provider": "provider report",
       "service": "sent by the service", "": ""}
PAGE = 1000
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def parse_since(raw: str | None) -> int:
    """--since as epoch milliseconds (0: from the start); InvalidInput when unreadable."""
    if not raw:
        return 0
    try:
        moment = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"--since must be an ISO 8601 date or time, got {raw!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0, int(moment.timestamp() * 1000))


def rows(store: Store, since_ms: int = 0, page: int = PAGE) -> Iterator[dict[str, str]]:
    """Every event from `since_ms` on, oldest first, one dict per event (COLUMNS)."""
    batch: list[tuple[str, dict[str, str]]] = []
    confirmed: dict[str, str] = {}  # person -> last confirmation, read once per export
    for entry in store.consent_log.export(since_ms, page):
        batch.append(entry)
        if len(batch) == page:
            yield from _rows(store, batch, confirmed)
            batch = []
    yield from _rows(store, batch, confirmed)


def last_confirmed(store: Store, subscriber_id: str) -> str:
    """When the person last said yes themselves (ISO 8601 UTC), "" when never (from their own
    indexed entries only: consent_log.history)."""
    return max((e.get("at", "") for e in store.consent_log.history(subscriber_id)
                if e.get("action") in CONFIRMATIONS), default="")


def _rows(store: Store, batch: list[tuple[str, dict[str, str]]], confirmed: dict[str, str]
          ) -> Iterator[dict[str, str]]:
    people = sorted({event.get("sub", "") for _eid, event in batch} - {""})
    contact = dict(zip(people, _contacts(store, people), strict=True))
    for person in people:
        if person not in confirmed:
            confirmed[person] = last_confirmed(store, person)
    for entry_id, event in batch:
        source = event.get("source", "")
        phone, email = contact.get(event.get("sub", ""), ("", ""))
        how = HOW.get(source, source)
        if source == "provider" and event.get("words"):
            how = f"provider report ({event['words']})"  # "error 21610": they opted out there
        yield {"time": event.get("at", ""), "entry_id": entry_id,
               "subscriber_id": event.get("sub", ""), "phone": phone, "email": email,
               "channel": event.get("channel", ""), "action": event.get("action", ""),
               "how": how, "source": source, "words": event.get("words", ""),
               "text_version": event.get("version", ""),
               "last_confirmed": confirmed.get(event.get("sub", ""), "")}


def _contacts(store: Store, people: list[str]) -> list[tuple[str, str]]:
    if not people:
        return []
    found = store.read_many(people)
    return [_contact(person, subscriber_id)
            for subscriber_id, person in zip(people, found, strict=True)]


def _contact(found: Subscriber | Undecodable | None, subscriber_id: str) -> tuple[str, str]:
    """Phone and address from a stored record, whichever field layout it has (an unreadable or
    forgotten one gives blanks: the event itself still goes out)."""
    if found is None:
        return "", ""
    try:
        sub, _zone = guards.readable(found, subscriber_id)
    except guards.Unreadable:
        return "", ""
    return sub.phone or "", sub.email or ""



def safe_cell(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_START) else value


def write(store: Store, out: IO[str], since_ms: int, fmt: str) -> int:
    """Write the export to `out` as it is read; how many events."""
    count = 0
    if fmt == "jsonl":
        for row in rows(store, since_ms):
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
        return count
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for row in rows(store, since_ms):
        writer.writerow([safe_cell(row[column]) for column in COLUMNS])
        count += 1
    return count
