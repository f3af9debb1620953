"""The channel registry: every way a message reaches a person, declared once.

A channel is a name (sms, email, voice) and what the rest of the service needs to know
about it without naming it: where its address is on the subscriber record, which field holds
its consent state, what a provider's answer about the person does to that state, how a lost
answer is looked up, whether it shares the SMS pace and gets status callbacks. The transport
itself (channels/<name>.py) is plugged in by wiring; the one send path (app/sending/send_path.py)
reads these declarations, so no app module writes `if channel == "sms" ... else`.

To add a channel: declare it here with `register`, add its transport under channels/ (raising
channels.base.DeliveryError with neutral flags), its entry in wiring's transport table, its
templates and its tests. See docs/ARCHITECTURE.md, "How to add a channel".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from reminders.domain.registry import Registry


class Recipient(StrEnum):
    """What a provider's answer says about the person, in no provider's vocabulary: the
    transport sorts its own codes, the channel's declaration says what follows for consent."""

    OPTED_OUT = "opted_out"  # they asked the provider to stop (Twilio 21610)
    INVALID = "invalid"  # the number or address cannot be reached (21211, 21614; a 5xx bounce)
    NONE = ""  # nothing about the person


class Lookup(StrEnum):
    """How the send path learns whether an attempt whose answer was lost went out."""

    PROVIDER_LIST = "provider_list"  # ask the provider (Twilio: recipient's messages by body)
    MESSAGE_ID = "message_id"  # cannot ask: resend with the same deterministic Message-ID


@dataclass(frozen=True)
class ChannelSpec:
    name: str
    address: str  # the Subscriber attribute holding the address ("phone", "email")
    status: str  # the Subscriber attribute holding its consent state ("sms_status", ...)
    lookup: Lookup
    # What a permanent answer about the person sets `status` to (absent: nothing changes).
    on_recipient: dict[Recipient, str] = field(default_factory=dict)
    paced: bool = False  # books TWILIO_MPS slots and a place in the worker's send window
    status_callbacks: bool = False  # the provider posts delivery statuses (/sms/status)
    # The consent-log channel and source word of a provider's verdict ("error", "smtp").
    verdict_word: str = "error"

    def address_of(self, person: Any) -> str | None:
        value = getattr(person, self.address, None)
        return str(value) if value else None

    def state_of(self, person: Any) -> str:
        return str(getattr(person, self.status, "none"))


# Every channel, in declaration order (the order an evening's channels are sent in).
_REGISTRY: Registry[ChannelSpec] = Registry("channel", lambda spec: spec.name)
register, get, names = _REGISTRY.register, _REGISTRY.get, _REGISTRY.names


SMS = register(ChannelSpec(
    "sms", address="phone", status="sms_status", lookup=Lookup.PROVIDER_LIST,
    on_recipient={Recipient.OPTED_OUT: "opted_out", Recipient.INVALID: "invalid"},
    paced=True, status_callbacks=True))
EMAIL = register(ChannelSpec(
    "email", address="email", status="email_status", lookup=Lookup.MESSAGE_ID,
    on_recipient={Recipient.OPTED_OUT: "bouncing", Recipient.INVALID: "bouncing"},
    verdict_word="smtp"))
# A phone call that says the evening's items and takes keypad answers (channels/twilio_voice.py;
# the person chose it: VOICE ON / LLAMADA SI). Its own consent state: a text's STOP ends calls
# too (inbound.py), but a VOICE OFF leaves their texts alone. A lost answer is looked up in the
# provider's Calls list (by To and start time) before any second call. Paced at TWILIO_CPS, its
# own rate in the same limiter (wiring: Pacer's `own`), and in the worker's send window.
VOICE = register(ChannelSpec(
    "voice", address="phone", status="voice_status", lookup=Lookup.PROVIDER_LIST,
    on_recipient={Recipient.OPTED_OUT: "opted_out", Recipient.INVALID: "invalid"},
    paced=True, status_callbacks=True, verdict_word="call"))


# A person's channels are a set. Stored as the names joined by "," in registry order
# ("sms", "email", "sms,email"); records written before the set read "both" as sms and email.
LEGACY_BOTH = "both"


def parse_set(stored: str) -> frozenset[str]:
    """The channels of a stored `ch` field, old or new form (ValueError: unknown name)."""
    if stored == LEGACY_BOTH:
        return frozenset(("sms", "email"))
    found = frozenset(part.strip() for part in stored.split(",") if part.strip())
    unknown = found - set(_REGISTRY)
    if unknown or not found:
        raise ValueError(f"unknown channel(s) {stored!r}")
    return found


def encode_set(channels: frozenset[str] | set[str]) -> str:
    return ",".join(name for name in _REGISTRY if name in channels)


def legacy_name(channels: frozenset[str]) -> str:
    """`show --json`'s `channel`: sms | email | both, as the contract has always said."""
    if channels == {"sms", "email"}:
        return LEGACY_BOTH
    return encode_set(channels)


def ordered(channels: frozenset[str] | set[str]) -> list[str]:
    return [name for name in _REGISTRY if name in channels]
