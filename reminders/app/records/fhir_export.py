"""`reminders fhir-export`: the records as FHIR R4 NDJSON (Bulk Data style), one file per type.

Streamed, bounded memory: people are read a SCAN page at a time (their evenings in one
pipelined round trip per page), the consent/audit log and the inbox a page of entries at a time
(XRANGE ... COUNT), and each resource is written as soon as it is built: what sits in memory is
one page and the foot problems still open while the log is read, never the export.

What each file holds (domain/fhir.py builds them):
  Patient.ndjson        everyone exported (the phone as identifier, name, language, telecom)
  Observation.ndjson    one per 0-10 score (LOINC 72514-3) and per TEMP pair when recorded
  Flag.ndjson           one per foot-problem report: active while open, inactive once closed
  Communication.ndjson  one per message: evening reminders and weekly texts sent, texts received
                        (commands, and texts kept for the care team); words only --with-text
  Consent.ndjson        one per opt-in or opt-out
Privacy: the files are 0600 (app/records/private_files.py) and whole or absent; the words of texts
are left out unless asked for (minimum necessary); the caller writes the audit line.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from reminders.app.care import flags
from reminders.app.records.person_json import chunked
from reminders.app.records.private_files import private_file
from reminders.app.records.visit_report import KEPT_DAYS, temperature_pairs
from reminders.domain import fhir, foot_problems
from reminders.domain.subscriber import Subscriber
from reminders.storage.subscribers import Store

log = logging.getLogger(__name__)
TYPES = ("Patient", "Observation", "Flag", "Communication", "Consent")
PAGE = 500
# Channels of a night record and the medium each goes by.
NIGHT_CHANNELS = {"sms": "sms", "email": "email", "weekly": "sms", "weekly_email": "email"}
FINAL = ("sent", "failed", "missed", "skipped")
T = TypeVar("T")
KNOWN_PEOPLE = 100_000


@dataclass
class Export:
    store: Store
    out_dir: Path
    since_ms: int = 0
    person: Subscriber | None = None
    with_text: bool = False
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TYPES, 0))
    # Whether a person of the log still has a record (the forgotten are left out), remembered
    # for at most KNOWN_PEOPLE people.
    existing: dict[str, bool] = field(default_factory=dict)
    # Records that do not decode (or name a zone that does not exist): left out, and said.
    unreadable: list[str] = field(default_factory=list)

    def run(self) -> dict[str, int]:
        """Write the five files into out_dir (created 0700 if missing); how many of each."""
        self.out_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        with ExitStack() as stack:
            files = {kind: stack.enter_context(private_file(self.out_dir / f"{kind}.ndjson"))
                     for kind in TYPES}
            for resource in self.resources():
                kind = resource["resourceType"]
                files[kind].write(json.dumps(resource, ensure_ascii=False,
                                             separators=(",", ":")) + "\n")
                self.counts[kind] += 1
        return self.counts

    def resources(self) -> Iterator[dict[str, Any]]:
        people: Iterable[Subscriber] = ([self.person] if self.person
                                        else self.store.all(unreadable=self.unreadable))
        for chunk in chunked(people, PAGE):
            yield from self._people(chunk)
        self.existing.update(dict.fromkeys(self.unreadable, False))  # no Patient: none of theirs
        if self.unreadable:
            log.warning("fhir-export left out %d unreadable records: %s", len(self.unreadable),
                        " ".join(self.unreadable[:20]))
        yield from self._log()
        yield from self._inbox()

    # People: Patient, scores, temperatures, open flags, messages sent.
    def _people(self, chunk: list[Subscriber]) -> Iterator[dict[str, Any]]:
        for sub in chunk:
            if not _zone_ok(sub.timezone):  # a bad hand edit: left out, like an unreadable one
                self.unreadable.append(sub.id)
                continue
            yield fhir.patient(sub.id, sub.phone, sub.email, sub.name, sub.language)
            days = self._days(sub)
            for day, record in zip(days, self.store.nights.read_many(sub.id, days),
                                   strict=True):
                yield from self._evening(sub, day, record)
            for pair in temperature_pairs(self.store, sub, date.min):
                yield fhir.temperatures(sub.id, pair.day, self._evening_at(sub, pair.day),
                                        pair.left_c, pair.right_c)
            for problem in foot_problems.open_reports(
                    sub.id, flags.reports(self.store, sub, self.now)):
                if _ms(problem.at) >= self.since_ms:
                    yield fhir.flag(problem)

    def _days(self, sub: Subscriber) -> list[date]:
        """The person's kept evenings (and tomorrow's: a record made early), from --since."""
        zone = ZoneInfo(sub.timezone)
        today = self.now.astimezone(zone).date()
        first = today - timedelta(days=KEPT_DAYS + 1)
        days = [first + timedelta(days=n) for n in range(KEPT_DAYS + 3)]
        return [d for d in days if self._evening_at(sub, d).timestamp() * 1000 >= self.since_ms]

    @staticmethod
    def _evening_at(sub: Subscriber, day: date) -> datetime:
        return datetime.combine(day, sub.send_time, ZoneInfo(sub.timezone))

    def _evening(self, sub: Subscriber, day: date, record: dict[str, str]
                 ) -> Iterator[dict[str, Any]]:
        at = self._evening_at(sub, day)
        score = record.get("score", "")
        if score.isdigit():
            yield fhir.score(sub.id, day, at, int(score))
        for channel, medium in NIGHT_CHANNELS.items():
            state = record.get(channel, "")
            if state in FINAL:
                yield fhir.sent(sub.id, day, channel, medium, state,
                                _attempt_at(record.get(f"{channel}_since", ""), at))

    # The consent/audit log: Consent, texts received, closed foot problems.
    def _log(self) -> Iterator[dict[str, Any]]:
        pairing = foot_problems.Pairing()
        events = self.store.consent_log.export(self.since_ms)
        for entry_id, event in self._exported(events, lambda e: e.get("sub", "")):
            sub, action, source, at = (event.get(k, "") for k in ("sub", "action", "source",
                                                                   "at"))
            found = fhir.consent(sub, entry_id, event.get("channel", ""), action, source, at)
            if found:
                yield found
            if source == "sms" and not action.startswith(("flag:", "caregiver_")):
                yield fhir.received(sub, entry_id, "sms", at,
                                    event.get("words", "") if self.with_text else None)
            closed = pairing.feed(event)
            if closed:
                yield fhir.flag(closed)

    def _exported(self, entries: Iterator[tuple[str, T]], whose: Callable[[T], str]
                  ) -> Iterator[tuple[str, T]]:
        """The entries about the people exported (whose Patient is in the export): a page of
        entries, then one round trip for whether the people not seen yet still exist."""
        for page in chunked(entries, 1000):
            people = {whose(e) for _, e in page} - {""}
            if self.person:
                kept = {self.person.id} & people - set(self.unreadable)
            else:
                unknown = sorted(people - self.existing.keys())
                if len(self.existing) + len(unknown) > KNOWN_PEOPLE:
                    self.existing.clear()  # bounded: a million people never sit here
                for person, found in zip(unknown, self.store.exist_many(unknown), strict=True):
                    self.existing[person] = found
                kept = {p for p in people if self.existing.get(p)}
            yield from ((eid, e) for eid, e in page if whose(e) in kept)

    def _inbox(self) -> Iterator[dict[str, Any]]:
        """Texts kept for the care team (not understood, or about the body)."""
        for entry_id, item in self._exported(self.store.inbox.export(self.since_ms),
                                             lambda item: item.subscriber):
            yield fhir.received(item.subscriber, f"inbox-{entry_id}", "sms", item.at,
                                item.text if self.with_text else None)


def _zone_ok(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _attempt_at(since: str, evening: datetime) -> datetime:
    """When the evening's send began (`<ch>_since`: an epoch, or "first:last" attempts)."""
    try:
        return datetime.fromtimestamp(float(since.rpartition(":")[2]), tz=UTC).astimezone(
            evening.tzinfo)
    except ValueError:
        return evening


def _ms(iso: str) -> int:
    try:
        return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError:
        return 0


def write(store: Store, out_dir: Path, since_ms: int = 0, person: Subscriber | None = None,
          with_text: bool = False, now: datetime | None = None) -> dict[str, int]:
    return Export(store, out_dir, since_ms, person, with_text,
                  now or datetime.now(UTC)).run()

