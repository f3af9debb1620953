"""The subscriber record's Redis encoding: the one hash per person, field by field (the
dataclass itself and its rules are domain/subscriber.py; the hash is written and read by
storage/subscribers.py, and searched by the field names below).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from reminders.domain import channels as registry
from reminders.domain.states import EmailStatus, SmsStatus
from reminders.domain.subscriber import (
    _ISO_Z,
    CAUSES,
    DECODE_ERRORS,
    DEFAULT_LANGUAGE,
    LANGUAGES,
    Subscriber,
    now_iso,
)
from reminders.storage import codec

# Stored field names. The five longest-lived values go under one-letter names: with the id and
# the defaults left out, that keeps a typical record's listpack in Redis's 128-byte allocation
# class instead of the 160-byte one (benchmark row 1). `LEGACY` maps each to the name earlier
# versions wrote, which from_hash still reads (a record is rewritten in this layout on its next
# save). The names the Lua scripts use (ch, sms, email, em, cl) are unchanged.
TIMEZONE, TIME, PHONE, NAME, CREATED = "z", "t", "p", "n", "c"
# The language: one letter, and absent for English (most records), so it costs nothing there.
LANGUAGE = "l"
LEGACY = {TIMEZONE: "tz", TIME: "time", PHONE: "phone", NAME: "name", CREATED: "created"}
# `c` counts seconds from this instant (2024-01-01T00:00Z), so that it fits a 32-bit integer
# (until 2092) and Redis stores it in 5 bytes, not 9; the legacy `created` is epoch seconds.
CREATED_BASE = 1_704_067_200


def to_hash(sub: Subscriber) -> dict[str, str]:
    """Encode as a flat hash of what is not default (the id is in the key, see from_hash).

    Left out: the id, empty fields, and the defaults (`sms`/`em` "none", `heat` "0",
    `massage` "1", `weekly` "1", `l` (language) "en", no `cause`, `ms` "0", `fq` daily, `rd`
    the default days, `tm` off). Redis stores
    small integers in fewer bytes than text, so `t` is the minute of the day (20:30 -> 1230),
    `c` (created) seconds
    since CREATED_BASE, and the phone number has no "+"; `created_at` stays ISO 8601 in the record.
    """
    fields: dict[str, str] = {
        TIMEZONE: sub.timezone,
        TIME: str(sub.send_time.hour * 60 + sub.send_time.minute),
        "ch": registry.encode_set(sub.channels),
    }
    optional = {
        PHONE: _compact_phone(sub.phone),
        "email": sub.email,
        NAME: sub.name,
        "sms": sub.sms_status if sub.sms_status != "none" else None,
        "em": sub.email_status if sub.email_status != "none" else None,
        "vo": sub.voice_status if sub.voice_status != "none" else None,
        "heat": "1" if sub.heat_ok else None,
        "massage": "0" if not sub.massage_ok else None,
        "paused": sub.paused_until.isoformat() if sub.paused_until else None,
        "streak": str(sub.streak) if sub.streak else None,
        "done": sub.last_done.isoformat() if sub.last_done else None,
        "flag": sub.flag_until.isoformat() if sub.flag_until else None,
        CREATED: _compact_instant(sub.created_at, CREATED_BASE),
        "weekly": "0" if not sub.weekly_ok else None,
        LANGUAGE: sub.language if sub.language != DEFAULT_LANGUAGE else None,
        "cause": sub.cause,
        "ms": "1" if sub.massage_set else None,
        "fq": "l" if sub.frequency == "lighter" else None,
        "rd": "".join(str(d) for d in sub.routine_days) or None,
        "tm": "1" if sub.temp_monitoring else None,
    }
    fields.update({k: v for k, v in optional.items() if v})
    return fields


def from_hash(raw: Mapping[str, str], subscriber_id: str | None = None) -> Subscriber:
    """Decode a subscriber hash (this layout or the older ones, which used longer field names,
    stored the id and the defaults, `created` as ISO 8601 and the phone with its "+").

    `subscriber_id` is the id from the hash's key (keys.subscriber_id_of); it is required for
    hashes written by to_hash, which no longer store it.
    """
    sid = subscriber_id or raw.get("id")
    if not sid:
        raise ValueError("subscriber hash without an id: pass subscriber_id (from the key)")
    hh, mm = _clock(_field(raw, TIME))
    return Subscriber(
        id=sid,
        phone=_full_phone(_field(raw, PHONE, "")),
        email=raw.get("email") or None,
        name=_field(raw, NAME, ""),
        timezone=_field(raw, TIMEZONE),
        send_time=time(int(hh), int(mm)),
        # Old records say sms | email | both; an unknown name is a damaged record (ValueError).
        channels=registry.parse_set(raw["ch"]),
        sms_status=SmsStatus(raw.get("sms") or "none"),
        email_status=EmailStatus(raw.get("em") or "none"),
        voice_status=SmsStatus(raw.get("vo") or "none"),
        heat_ok=raw.get("heat") == "1",
        massage_ok=raw.get("massage", "1") == "1",
        paused_until=date.fromisoformat(raw["paused"]) if raw.get("paused") else None,
        streak=int(raw.get("streak") or "0"),
        last_done=date.fromisoformat(raw["done"]) if raw.get("done") else None,
        created_at=(_iso_instant(raw[CREATED], CREATED_BASE) if CREATED in raw
                    else _iso_instant(raw.get(LEGACY[CREATED], ""), 0)),
        flag_until=date.fromisoformat(raw["flag"]) if raw.get("flag") else None,
        weekly_ok=raw.get("weekly", "1") == "1",
        language=_language(raw.get(LANGUAGE) or DEFAULT_LANGUAGE),
        cause=_cause(raw.get("cause") or None),
        massage_set=raw.get("ms") == "1",
        frequency=_frequency(raw.get("fq") or ""),
        routine_days=_days(raw.get("rd") or ""),
        temp_monitoring=raw.get("tm") == "1",
    )


def _cause(stored: str | None) -> str | None:
    if stored is not None and stored not in CAUSES:
        raise ValueError(f"unknown cause {stored!r}")  # a damaged record
    return stored


def _frequency(stored: str) -> str:
    if stored not in ("", "l"):
        raise ValueError(f"unknown frequency {stored!r}")  # a damaged record
    return "lighter" if stored == "l" else "daily"


def _days(stored: str) -> tuple[int, ...]:
    days = tuple(int(c) for c in stored)  # ValueError on anything but digits
    if any(d > 6 for d in days):
        raise ValueError(f"unknown weekdays {stored!r}")
    return days


def _language(stored: str) -> str:
    if stored not in LANGUAGES:
        raise ValueError(f"unknown language {stored!r}")  # a damaged record
    return stored


def _field(raw: Mapping[str, str], name: str, default: str | None = None) -> str:
    """A field by its current name, else by its legacy one; KeyError when required and absent."""
    if name in raw:
        return raw[name]
    if default is None:
        return raw[LEGACY[name]]
    return raw.get(LEGACY[name], default)


def _compact_phone(e164: str | None) -> str | None:
    """ "+13125550142" -> "13125550142" (Redis keeps it as an integer: 9 bytes, not 13)."""
    if e164 and e164.startswith("+") and e164[1:].isdigit() and not e164[1:].startswith("0"):
        return e164[1:]
    return e164


def _full_phone(stored: str) -> str | None:
    if not stored:
        return None
    return stored if stored.startswith("+") else "+" + stored


def _clock(stored: str) -> tuple[int, int]:
    """(hour, minute) from the minute of the day ("1230"), or from "20:30" (older layouts)."""
    if ":" in stored:
        hh, mm = stored.split(":")
        return int(hh), int(mm)
    return divmod(int(stored), 60)


def _compact_instant(iso: str, base: int) -> str | None:
    """ "2025-01-31T20:30:00Z" -> seconds since `base`; anything else unchanged."""
    if not iso:
        return None
    try:
        moment = datetime.strptime(iso, _ISO_Z).replace(tzinfo=UTC)
    except ValueError:
        return iso
    compact = str(int(moment.timestamp()) - base)
    return compact if _iso_instant(compact, base) == iso else iso


def _iso_instant(stored: str, base: int) -> str:
    """The inverse of _compact_instant: seconds since `base` back to ISO 8601 (values that are
    not a whole number, such as ISO 8601 from older layouts, are kept as they are)."""
    if stored.removeprefix("-").isdigit():
        return now_iso(datetime.fromtimestamp(base + int(stored), tz=UTC))
    return stored


def person_from(raw: Mapping[Any, Any], subscriber_id: str) -> Subscriber:
    """The person in a stored hash as Redis returned it (bytes or text); raises one of
    domain.subscriber.DECODE_ERRORS for a damaged record."""
    return from_hash(codec.text_hash(raw), subscriber_id)


@dataclass(frozen=True)
class Undecodable:
    """A stored record that does not decode (app/sending/guards.py skips it and says why)."""

    error: Exception


def person_or_problem(raw: Mapping[Any, Any], subscriber_id: str
                      ) -> Subscriber | Undecodable | None:
    """`person_from` that never raises for a damaged record; None for an empty (gone) hash."""
    if not raw:
        return None
    try:
        return person_from(raw, subscriber_id)
    except DECODE_ERRORS as exc:
        return Undecodable(exc)
