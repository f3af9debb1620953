"""Parsing and validating what people and operators type: phones, emails, times, zones.

Each parser returns a clean value or raises `InvalidInput` with a message fit to show a person.
Nothing here touches Redis, so a failed validation cannot write anything.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import phonenumbers
from phonenumbers import timezone as phone_timezones

from reminders.domain import channels as registry
from reminders.domain.subscriber import LANGUAGES
from reminders.domain.windows import DEFAULT_WINDOWS, Window

DEFAULT_REGION = "US"


class InvalidInput(ValueError):
    """Input a person typed is not acceptable; str(e) says why in one line."""


def normalise_phone(raw: str, region: str = DEFAULT_REGION) -> str:
    """Return the number in E.164, or raise InvalidInput."""
    text = (raw or "").strip()
    if not text or len(text) > 32:
        raise InvalidInput(f"not a phone number: {raw!r}")
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise InvalidInput(f"not a phone number: {raw!r}") from None
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidInput(f"not a valid phone number: {raw!r}")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def timezone_for_phone(e164: str) -> str | None:
    """The time zone of a number when the number pins down exactly one; else None."""
    parsed = phonenumbers.parse(e164, None)
    zones = [z for z in phone_timezones.time_zones_for_number(parsed) if z != "Etc/Unknown"]
    if len(zones) == 1 and is_known_timezone(zones[0]):
        return zones[0]
    return None


_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


def normalise_email(raw: str) -> str:
    """The address with its domain lower-cased, or InvalidInput (one line, whatever `raw`)."""
    text = (raw or "").strip()
    if any(not ch.isprintable() for ch in text):
        # A CR or LF would start a header of its own in the email we send.
        raise InvalidInput(f"not an email address (it holds a line break or control "
                           f"character): {raw!r}")
    if "=?" in text:
        # An RFC 2047 encoded-word: mail software decodes "=?utf-8?q?a=40b.example=2C_c?=@d"
        # into "a@b.example, c@d", a second recipient in the To header. No real mailbox needs one.
        raise InvalidInput(f"not an email address (encoded words are not accepted): {raw!r}")
    if len(text) > 254 or not _EMAIL.fullmatch(text):
        raise InvalidInput(f"not an email address: {raw!r}")
    local, _, domain = text.rpartition("@")
    return f"{local}@{domain.lower()}"


# Providers that deliver "a.b@gmail.com" to the inbox of "ab@gmail.com" (dots ignored).
_DOTLESS_DOMAINS = {"gmail.com": "gmail.com", "googlemail.com": "gmail.com"}


def inbox_of(address: str) -> str:
    """The mailbox an address reaches, for counting what we send to one inbox: lower-cased,
    without a "+tag" (Gmail, Outlook, iCloud, Fastmail and most servers deliver a+x@ to a@),
    and without dots on Gmail. Only for limits: mail still goes to the address as given, and
    two addresses this merges are counted as one even where they are not (a stricter limit)."""
    local, _, domain = address.strip().lower().rpartition("@")
    local = local.split("+", 1)[0] or local
    domain = _DOTLESS_DOMAINS.get(domain, domain)
    if domain == "gmail.com":
        local = local.replace(".", "") or local
    return f"{local}@{domain}"


def looks_like_email(raw: str) -> bool:
    return "@" in (raw or "")


def is_known_timezone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


@lru_cache(maxsize=1)
def _zones_by_city() -> dict[str, str]:
    """'chicago' -> 'America/Chicago', for people who type a city rather than an IANA name."""
    by_city: dict[str, str] = {}
    for name in sorted(available_timezones()):
        if "/" not in name or name.startswith(("Etc/", "SystemV/", "posix/", "right/")):
            continue
        city = name.rsplit("/", 1)[1].replace("_", " ").lower()
        by_city.setdefault(city, name)
    return by_city


def parse_timezone(raw: str) -> str:
    """An IANA name ('America/Chicago') or a city ('Chicago', 'new york')."""
    text = (raw or "").strip()
    if not text or len(text) > 64:
        raise InvalidInput(f"unknown time zone: {raw!r}")
    if "/" in text or text.upper() == "UTC":
        if is_known_timezone(text):
            return text
        for name in available_timezones():  # case-insensitive exact name
            if name.lower() == text.lower():
                return name
        raise InvalidInput(f"unknown time zone: {raw!r} (try a name like America/Chicago)")
    city = " ".join(text.replace("_", " ").split()).lower()
    if city in _zones_by_city():
        return _zones_by_city()[city]
    raise InvalidInput(f"unknown time zone: {raw!r} (try a name like America/Chicago)")


_TIME = re.compile(
    r"^(?P<h>\d{1,2})(?:[:.h](?P<m>\d{2}))?\s*(?P<ampm>[ap]\.?\s*m\.?)?$", re.IGNORECASE
)


def parse_clock(raw: str) -> time:
    """'21:15', '9:15pm', '9 PM', '9.15 p.m.' -> time. Raises InvalidInput."""
    text = (raw or "").strip().lower()
    match = _TIME.match(text) if len(text) <= 16 else None
    if not match:
        raise InvalidInput(f"not a time: {raw!r} (use HH:MM, like 20:30 or 8:30pm)")
    hour, minute = int(match.group("h")), int(match.group("m") or 0)
    ampm = (match.group("ampm") or "").replace(".", "").replace(" ", "")
    if ampm:
        if not 1 <= hour <= 12:
            raise InvalidInput(f"not a time: {raw!r}")
        hour = hour % 12 + (12 if ampm == "pm" else 0)
    if hour > 23 or minute > 59:
        raise InvalidInput(f"not a time: {raw!r}")
    return time(hour, minute)


class OutsideWindow(InvalidInput):
    """A clock time that parsed but is outside the person's send window."""

    def __init__(self, value: time, window: Window) -> None:
        super().__init__(f"time {value:%H:%M} is outside the send window {window} "
                         "(SEND_WINDOW, STATE_WINDOWS)")
        self.window = window


def parse_send_time(raw: str, window: Window = DEFAULT_WINDOWS.general) -> time:
    """A clock time inside the person's send window (Windows.for_phone)."""
    value = parse_clock(raw)
    if value not in window:
        raise OutsideWindow(value, window)
    return value


def parse_channel(raw: str) -> str:
    """sms | email | both, or a comma list of channel names ("sms,email"); the stored form."""
    value = (raw or "").strip().lower().replace(" ", "")
    try:
        return registry.encode_set(registry.parse_set(value))
    except ValueError:
        raise InvalidInput(f"unknown channel: {raw!r} (use sms, email or both)") from None


# Names people and operators give a language, beyond its code ("es", "en").
_LANGUAGE_NAMES = {"english": "en", "ingles": "en", "inglés": "en", "spanish": "es",
                   "espanol": "es", "español": "es"}


def parse_language(raw: str) -> str:
    """ "es", "ES", "Spanish", "español" -> "es"; one of LANGUAGES, else InvalidInput."""
    value = (raw or "").strip().lower()
    value = _LANGUAGE_NAMES.get(value, value)
    if value not in LANGUAGES:
        raise InvalidInput(f"unknown language: {raw!r} (use {' or '.join(LANGUAGES)})")
    return value


# What `cause` accepts: the stored values, plus everyday names for them; none/unknown clears it.
_CAUSE_NAMES = {"diabetes": "diabetes", "diabetic": "diabetes",
                "cancer_treatment": "cancer_treatment", "cancer": "cancer_treatment",
                "chemo": "cancer_treatment",
                "chemotherapy": "cancer_treatment", "other": "other"}


def parse_cause(raw: str) -> str | None:
    """ "diabetes" | "cancer_treatment" (also "cancer", "chemo") | "other" | "" / "none" /
    "unknown" -> None; anything else InvalidInput."""
    value = (raw or "").strip().lower().replace("-", "_").replace(" ", "_")
    if value in ("", "none", "unknown", "null"):
        return None
    if value not in _CAUSE_NAMES:
        raise InvalidInput(
            f"unknown cause: {raw!r} (use diabetes, cancer_treatment, other or none)")
    return _CAUSE_NAMES[value]


def parse_bool(raw: str) -> bool:
    value = (raw or "").strip().lower()
    if value in {"1", "true", "yes", "y", "on"}:
        return True
    if value in {"0", "false", "no", "n", "off"}:
        return False
    raise InvalidInput(f"not true or false: {raw!r}")


EARLIEST_CONSENT = datetime(2000, 1, 1, tzinfo=UTC)


def parse_consented_at(raw: str, now: datetime | None = None) -> datetime:
    """When a person agreed, in the system they come from (the import's `consented_at`):
    ISO 8601, a date or a time (UTC when no offset); not in the future, not before 2000."""
    text = (raw or "").strip()
    try:
        value = datetime.fromisoformat(text) if len(text) <= 40 else None
    except ValueError:
        value = None
    if value is None:
        raise InvalidInput(f"consented_at {raw[:40]!r} is not an ISO 8601 date or time "
                           "(like 2024-03-05 or 2024-03-05T18:30:00Z)")
    value = value if value.tzinfo else value.replace(tzinfo=UTC)
    if value > (now or datetime.now(UTC)):
        raise InvalidInput(f"consented_at {text} is in the future")
    if value < EARLIEST_CONSENT:
        raise InvalidInput(f"consented_at {text} is before 2000")
    return value.astimezone(UTC)


def parse_date(raw: str) -> date:
    try:
        return date.fromisoformat((raw or "").strip())
    except ValueError:
        raise InvalidInput(f"not a date: {raw!r} (use YYYY-MM-DD)") from None


def clean_name(raw: str) -> str:
    """Collapse whitespace and drop control characters; names are only ever greeted with."""
    text = "".join(ch if ch.isprintable() else " " for ch in (raw or ""))
    text = " ".join(text.split())
    if len(text) > 80:
        raise InvalidInput("name is longer than 80 characters")
    return text


def format_clock(value: time) -> str:
    """9:15pm style, for texts: what most people read fastest."""
    hour = value.hour % 12 or 12
    return f"{hour}:{value.minute:02d}{'pm' if value.hour >= 12 else 'am'}"
