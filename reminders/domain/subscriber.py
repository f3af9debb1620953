"""The subscriber record: what we know about one person (its Redis encoding is
storage/subscriber_codec.py)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time
from typing import Any

from reminders.domain import channels as registry
from reminders.domain.states import EmailStatus, SmsStatus

SMS_STATES = tuple(state.value for state in SmsStatus)
# The languages the service speaks: each has its files beside the English ones
# (templates/**/NAME.<lang>.EXT, docs/languages.md); "en" is the default and is not stored.
LANGUAGES = ("en", "es")
DEFAULT_LANGUAGE = "en"
# What from_hash raises on a damaged hash: a missing field (KeyError), a bad value or bytes that
# are not UTF-8 (ValueError). ZoneInfo raises these too (ZoneInfoNotFoundError is a KeyError),
# and OSError where a zone name is a directory.
DECODE_ERRORS = (KeyError, ValueError, TypeError, OSError)
EMAIL_STATES = tuple(state.value for state in EmailStatus)


@dataclass(frozen=True)
class Subscriber:
    id: str
    phone: str | None
    email: str | None
    name: str
    timezone: str
    send_time: time
    # The channels they want (domain/channels.py names): a set, e.g. {"sms"}, {"sms", "email"}.
    channels: frozenset[str]
    sms_status: SmsStatus = SmsStatus.NONE
    email_status: EmailStatus = EmailStatus.NONE
    # The evening call's consent (same states as a text's: pending, active, opted_out, ...).
    voice_status: SmsStatus = SmsStatus.NONE
    heat_ok: bool = False  # reduced feeling makes heat risky: opt in, never assumed
    massage_ok: bool = True
    paused_until: date | None = None
    streak: int = 0
    last_done: date | None = None
    created_at: str = ""
    # Last evening on which a foot problem they reported keeps massage and heat out of the text
    # (cleared by `reminders flags clear`); the reports themselves live in flags.py.
    flag_until: date | None = None
    # The weekly progress text (WEEKLY OFF / WEEKLY ON); on unless they turned it off.
    weekly_ok: bool = True
    # The language of every text, reply and email they get (LANGUAGES; ESPAÑOL / ENGLISH).
    language: str = "en"
    # What the foot problems come from, when known (CAUSES): it decides
    # the items only some people get (a 24-hour treatment line) and the massage default.
    cause: str | None = None
    # Whether massage_ok was chosen (MASSAGE ON/OFF, `set massage_ok=`, the console) rather
    # than left at its default: only a default follows a cause set later (preferences.py).
    massage_set: bool = False
    # How often the full routine comes (frequency.FREQUENCIES; LESS / MORE): `lighter` keeps
    # the foot check every evening and the routine on `routine_days` (weekday numbers, Monday
    # 0; empty: frequency.DEFAULT_DAYS).
    frequency: str = "daily"
    routine_days: tuple[int, ...] = ()
    # An operator (never the person) turned on TEMP: who is coached to use a thermometer is a
    # clinical decision.
    temp_monitoring: bool = False

    @property
    def channel(self) -> str:
        """The contract's one-word view of `channels`: sms | email | both."""
        return registry.legacy_name(self.channels)

    def wants(self, channel: str) -> bool:
        """They chose `channel` and we have its address."""
        return channel in self.channels and registry.get(channel).address_of(self) is not None

    def deliverable(self, channel: str) -> bool:
        """`wants`, and its consent state is active."""
        return self.wants(channel) and registry.get(channel).state_of(self) == "active"

    @property
    def wants_sms(self) -> bool:
        return "sms" in self.channels

    @property
    def wants_email(self) -> bool:
        return "email" in self.channels

    @property
    def sms_deliverable(self) -> bool:
        return self.deliverable("sms")

    @property
    def email_deliverable(self) -> bool:
        return self.deliverable("email")

    @property
    def schedulable(self) -> bool:
        """Whether this person should be in the due index at all."""
        return any(self.deliverable(name) for name in self.channels)

    def is_paused_on(self, local_date: date) -> bool:
        return self.paused_until is not None and local_date <= self.paused_until

    def flag_open_on(self, local_date: date) -> bool:
        return self.flag_until is not None and local_date <= self.flag_until

    def handle(self) -> str:
        """How operators and logs refer to the person: phone, else email."""
        return self.phone or self.email or self.id

    def with_changes(self, **changes: Any) -> Subscriber:
        # `channel="both"` (the contract's word, older callers) is the set it names.
        if "channel" in changes:
            changes["channels"] = registry.parse_set(str(changes.pop("channel")))
        return replace(self, **changes)


CAUSES = ("diabetes", "cancer_treatment", "other")


def massage_default(cause: str | None) -> bool:
    """Massage items at enrolment: on, but for people on cancer treatment (low platelets,
    clot risk), who get them only once they or an operator turn them on."""
    return cause != "cancer_treatment"


_ISO_Z = "%Y-%m-%dT%H:%M:%SZ"


def now_iso(now: datetime) -> str:
    return now.strftime(_ISO_Z)
