"""Review items: the care team's follow-up of what people text (and of their silence).

An item opens for a text nobody understood, a foot problem (flag), a crisis, any other text
the triage says needs a person, a worsening score, and a silent person. It has a deadline to
be acknowledged by (domain/deadlines.py: by level, in clinic time for same day and soon), an
owner once an operator takes it, and it closes only with an outcome (OUTCOMES) and a note.
Until it is taken, escalation (app/care/escalation.py) tells the care team when its stage falls
due. Closing a flag item clears the person's flag, and `flags clear` closes their flag items:
one follow-up, one outcome. The items live in storage/review.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from reminders.app.care import flags
from reminders.domain.deadlines import LEVELS, deadline_level, stages
from reminders.domain.subscriber import Subscriber, now_iso
from reminders.domain.validation import InvalidInput
from reminders.settings_care import CareSettings
from reminders.storage.subscribers import Store

OUTCOMES = flags.OUTCOMES
KINDS = ("text", "flag", "crisis", "worsening", "silence")
NOTE_MAX = 500


def who_of(subscriber_id: str, phone: str) -> str:
    """Whose items: the subscriber, or an unknown number (texts from outside the program)."""
    return subscriber_id or f"phone:{phone}"


def urgency(item: dict[str, str]) -> int:
    """0 for emergency .. 4 for soon: the inbox's order, most urgent first."""
    return LEVELS.index(deadline_level(item.get("level", "")))


@dataclass
class Reviews:
    store: Store
    care: CareSettings

    def open(self, *, kind: str, phone: str, subscriber_id: str, level: str, category: str,
             text: str, now: datetime, reply: str = "") -> tuple[str, bool]:
        """Open an item (or join the person's open one of this kind and level): (id, new)."""
        due, stage1, stage2 = stages(level, now, self.care.deadlines, self.care.clinic_hours)
        fields = {"kind": kind, "subscriber": subscriber_id, "phone": phone,
                  "at": now_iso(now), "level": level, "category": category, "text": text,
                  "reply": reply, "due_by": now_iso(due), "stage1_at": now_iso(stage1),
                  "stage2_at": now_iso(stage2)}
        item_id, new = self.store.review.open_item(who_of(subscriber_id, phone),
                                                   f"{kind}:{level}", fields, now.timestamp())
        if new:
            self.store.review.schedule_escalation(item_id, stage1.timestamp(), 0)
        return item_id, new

    def take(self, item_id: str, owner: str, now: datetime) -> dict[str, str]:
        self.require(item_id)
        if not self.store.review.take(item_id, owner, now_iso(now)):
            raise InvalidInput(f"item {item_id} is closed already")
        return self.require(item_id)

    def close(self, store: Store, item_id: str, outcome: str, note: str, by: str,
              now: datetime, source: str = "cli") -> dict[str, str]:
        """Close with an outcome and a note; a flag item clears the person's flag too."""
        item = self.require(item_id)
        said = _checked(outcome, note)
        if item.get("kind") == "flag" and item.get("subscriber"):
            sub = store.get(item["subscriber"])
            if sub is not None and flags.is_open(sub, now):
                flags.clear(store, sub, said, by, now, source=source, outcome=outcome)
        if not self._close(item, outcome, said, by, now):
            raise InvalidInput(f"item {item_id} is closed already")
        return self.require(item_id)

    def close_flag(self, store: Store, sub: Subscriber, outcome: str, note: str, by: str,
                   now: datetime, source: str = "cli") -> int:
        """`flags clear`: the flag and every open flag item of the person; how many items."""
        said = _checked(outcome, note)
        flags.clear(store, sub, said, by, now, source=source, outcome=outcome)
        closed = 0
        for slot, item_id in self.store.review.open_slots(sub.id).items():
            item = self.store.review.get(item_id)
            if slot.startswith("flag:") and item is not None:
                closed += self._close(item, outcome, said, by, now)
        return closed

    def _close(self, item: dict[str, str], outcome: str, note: str, by: str,
               now: datetime) -> bool:
        # Closing an item nobody took acknowledges it too: the closer owns it.
        fields = {"outcome": outcome, "note": note, "closed_by": by, "closed_at": now_iso(now),
                  "owner": item.get("owner") or by,
                  "taken_at": item.get("taken_at") or now_iso(now)}
        return self.store.review.close(item["id"], who_of(item["subscriber"], item["phone"]),
                                       f"{item['kind']}:{item['level']}", fields,
                                       now.timestamp())

    def require(self, item_id: str) -> dict[str, str]:
        item = self.store.review.get(item_id.strip()) if item_id.strip().isdigit() else None
        if item is None:
            raise InvalidInput(f"no review item {item_id!r}")
        return item

    def open_items(self) -> list[dict[str, str]]:
        """Open items, most urgent first, then the oldest."""
        found = self.store.review.get_many(self.store.review.open_ids())
        return sorted(found, key=lambda item: (urgency(item), item.get("at", "")))

    def inbox(self, include_closed: bool = False, since: float = 0.0) -> list[dict[str, str]]:
        """Open items first (most urgent, then oldest), then with include_closed the closed
        ones, the latest closed first."""
        found = self.open_items()
        if include_closed:
            found += self.store.review.get_many(self.store.review.closed_ids(since))
        return found

    def of_person(self, sub: Subscriber) -> list[dict[str, str]]:
        ids = self.store.review.ids_of(sub.id)
        return self.store.review.get_many(reversed(ids))


def _checked(outcome: str, note: str) -> str:
    if outcome not in OUTCOMES:
        raise InvalidInput(f"outcome must be one of {', '.join(OUTCOMES)}")
    said = " ".join(note.split())[:NOTE_MAX]
    if not said:
        raise InvalidInput("a note must say what happened (kept in the audit log)")
    return said


def entry(item: dict[str, str], sub: Subscriber | None) -> dict[str, Any]:
    """One inbox line (`inbox --json`, the console): DESIGN.md's fields and what a reader
    needs besides (name, kind, the words, the reply, local times)."""
    zone = sub.timezone if sub is not None else "UTC"
    return {"id": item["id"], "phone": item.get("phone", ""),
            "name": sub.name if sub is not None else "", "at": item.get("at", ""),
            "local_at": local(item.get("at", ""), zone), "level": item.get("level", ""),
            "category": item.get("category", ""), "kind": item.get("kind", ""),
            "state": "needs_review" if item.get("state") == "open" else "handled",
            "due_by": item.get("due_by", ""), "owner": item.get("owner", ""),
            "outcome": item.get("outcome", ""), "note": item.get("note", ""),
            "text": item.get("text", ""), "reply": item.get("reply", ""),
            "texts": int(item.get("texts", "1") or 1), "timezone": zone}


def local(iso: str, zone: str) -> str:
    """An ISO instant shown in the person's zone ("2026-12-07 21:04 CST")."""
    if not iso:
        return ""
    at = datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(ZoneInfo(zone))
    return at.strftime("%Y-%m-%d %H:%M %Z")


def overdue(item: dict[str, str], now: datetime) -> bool:
    due = item.get("due_by", "")
    return bool(due) and item.get("state") == "open" and not item.get("owner") and (
        datetime.fromisoformat(due.replace("Z", "+00:00")) < now.astimezone(UTC))
