"""The subscriber record: what we know about one person and how it is stored in one hash."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time
from typing import Any

SMS_STATES = ("pending", "active", "opted_out", "invalid", "none")
EMAIL_STATES = ("pending", "active", "unsubscribed", "bouncing", "none")


@dataclass(frozen=True)
class Subscriber:
    id: str
    phone: str | None
    email: str | None
    name: str
    timezone: str
    send_time: time
    channel: str  # sms | email | both
    sms_status: str = "none"
    email_status: str = "none"
    heat_ok: bool = False  # reduced feeling makes heat risky: opt in, never assumed
    massage_ok: bool = True
    paused_until: date | None = None
    streak: int = 0
    last_done: date | None = None
    created_at: str = ""

    @property
    def wants_sms(self) -> bool:
        return self.channel in ("sms", "both")

    @property
    def wants_email(self) -> bool:
        return self.channel in ("email", "both")

    @property
    def sms_deliverable(self) -> bool:
        return self.wants_sms and self.phone is not None and self.sms_status == "active"

    @property
    def email_deliverable(self) -> bool:
        return self.wants_email and self.email is not None and self.email_status == "active"

    @property
    def schedulable(self) -> bool:
        """Whether this person should be in the due index at all."""
        return self.sms_deliverable or self.email_deliverable

    def is_paused_on(self, local_date: date) -> bool:
        return self.paused_until is not None and local_date <= self.paused_until

    def handle(self) -> str:
        """How operators and logs refer to the person: phone, else email."""
        return self.phone or self.email or self.id

    def with_changes(self, **changes: Any) -> Subscriber:
        return replace(self, **changes)


def to_hash(sub: Subscriber) -> dict[str, str]:
    """Encode as a flat hash; empty/default fields are left out to keep the hash small."""
    fields: dict[str, str] = {
        "id": sub.id,
        "tz": sub.timezone,
        "time": sub.send_time.strftime("%H:%M"),
        "ch": sub.channel,
        "sms": sub.sms_status,
        "em": sub.email_status,
        "heat": "1" if sub.heat_ok else "0",
        "massage": "1" if sub.massage_ok else "0",
        "created": sub.created_at,
    }
    optional = {
        "phone": sub.phone,
        "email": sub.email,
        "name": sub.name,
        "paused": sub.paused_until.isoformat() if sub.paused_until else None,
        "streak": str(sub.streak) if sub.streak else None,
        "done": sub.last_done.isoformat() if sub.last_done else None,
    }
    fields.update({k: v for k, v in optional.items() if v})
    return fields


def from_hash(raw: dict[str, str]) -> Subscriber:
    hh, mm = raw["time"].split(":")
    return Subscriber(
        id=raw["id"],
        phone=raw.get("phone") or None,
        email=raw.get("email") or None,
        name=raw.get("name", ""),
        timezone=raw["tz"],
        send_time=time(int(hh), int(mm)),
        channel=raw["ch"],
        sms_status=raw.get("sms", "none"),
        email_status=raw.get("em", "none"),
        heat_ok=raw.get("heat") == "1",
        massage_ok=raw.get("massage", "1") == "1",
        paused_until=date.fromisoformat(raw["paused"]) if raw.get("paused") else None,
        streak=int(raw.get("streak", "0")),
        last_done=date.fromisoformat(raw["done"]) if raw.get("done") else None,
        created_at=raw.get("created", ""),
    )


def now_iso(now: datetime) -> str:
    return now.strftime("%Y-%m-%dT%H:%M:%SZ")
