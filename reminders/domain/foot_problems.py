"""A person's foot-problem reports, open and closed, from what the service keeps of them.

An open report lives in the person's flag list (storage/flags.py: when, category, level, words)
until an operator closes it; closing deletes that list and leaves, in the consent/audit log,
the line `flag_cleared` ("<operator>: <outcome>: <note>"). The log also holds the line
`flag:<category>` written when the flag opened. So a closed problem is a pair of log lines, and
an open one is the flag list. `episodes` pairs the lines in time order, holding only the
problems still open in memory (the FHIR export reads the whole log through it).

When review items with outcomes land (the care-team issue), they are the better source of the
outcome: `Problem.outcome` is the one field the visit report and the export read for it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

FLAG_OPENED = "flag:"
FLAG_CLEARED = "flag_cleared"
# How a follow-up ended (DESIGN.md `flags clear --outcome`), in words a patient can read.
OUTCOME_WORDS = {"reached": "care team spoke with them", "left_message": "message left",
                 "referred": "referred", "unreachable": "could not be reached",
                 "not_a_problem": "not a problem"}


@dataclass(frozen=True)
class Problem:
    subscriber: str
    at: str  # ISO 8601 UTC, when it was reported ("" when the report is older than the log)
    category: str  # wound, blister, swelling, hotspot, ...
    level: str  # the triage level when known (open reports), else ""
    closed_at: str = ""  # "" while open
    outcome: str = ""  # one of OUTCOME_WORDS' keys when the operator gave one, else ""

    @property
    def is_open(self) -> bool:
        return not self.closed_at

    @property
    def outcome_words(self) -> str:
        if self.is_open:
            return "open: follow-up pending"
        return OUTCOME_WORDS.get(self.outcome, "closed")


def outcome_of(words: str) -> str:
    """The outcome in a `flag_cleared` line ("<who>: <outcome>: <note>"), or ""."""
    parts = [part.strip() for part in words.split(":")]
    return next((part for part in parts[1:] if part in OUTCOME_WORDS), "")


class Pairing:
    """Pairs each `flag_cleared` line with the opening line before it, person by person;
    holds only the problems still open."""

    def __init__(self) -> None:
        self.opened: dict[str, tuple[str, str]] = {}  # subscriber -> (at, category)

    def feed(self, event: dict[str, str]) -> Problem | None:
        """The problem this event closes, if it closes one."""
        action, sub = event.get("action", ""), event.get("sub", "")
        if action.startswith(FLAG_OPENED):
            self.opened.setdefault(sub, (event.get("at", ""), action[len(FLAG_OPENED):]))
        elif action == FLAG_CLEARED:
            at, category = self.opened.pop(sub, ("", ""))
            return Problem(sub, at, category or "foot problem", "", event.get("at", ""),
                           outcome_of(event.get("words", "")))
        return None


def episodes(events: Iterable[dict[str, str]]) -> Iterator[Problem]:
    """The closed problems in consent/audit events (time order; each {"sub", "action",
    "words", "at"}). A person's opening line without its close is still open: the flag list,
    not the log, describes it (open_reports)."""
    pairing = Pairing()
    for event in events:
        closed = pairing.feed(event)
        if closed:
            yield closed


def open_reports(subscriber: str, reports: Iterable[dict[str, str]]) -> list[Problem]:
    """The person's open reports (their flag list, oldest first) as problems."""
    return [Problem(subscriber, report.get("at", ""), report.get("category", ""),
                    report.get("level", "")) for report in reports]
