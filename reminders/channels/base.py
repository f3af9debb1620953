"""The interface every delivery channel implements, and the one error they raise."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from enum import StrEnum
from typing import Protocol


class Recipient(StrEnum):
    """What a provider's answer says about the person, in no provider's vocabulary: the channel
    sorts its own codes (twilio_sms.recipient_problem), app/consent.py decides what follows."""

    OPTED_OUT = "opted_out"  # they asked the provider to stop (Twilio 21610)
    INVALID = "invalid"  # the number or address cannot be reached (21211, 21614; a 5xx bounce)
    NONE = ""  # nothing about the person


class DeliveryError(Exception):
    """A send did not happen.

    `permanent` errors are never retried (opted-out recipient, invalid number, hard bounce);
    the others are retried with backoff while the evening is still young. `retry_after` is the
    provider's own hint in seconds, when it gave one. `service` errors say nothing about the
    person (the provider refused our account or its credentials): retried, never held
    against the recipient, and they stop sending for everyone for a while (circuit.py).
    `recipient` says what the answer means for the person (Recipient), whatever the channel.
    """

    def __init__(
        self, message: str, permanent: bool = False, code: str = "",
        retry_after: float | None = None, service: bool = False,
        recipient: Recipient = Recipient.NONE,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.code = code
        self.retry_after = retry_after
        self.service = service
        self.recipient = recipient


def refused_address(reason: str) -> DeliveryError:
    """A stored address that fails today's checks (validation.normalise_email): never sent
    to, as a provider's hard bounce would be treated."""
    return DeliveryError(reason, permanent=True, code="invalid_address",
                         recipient=Recipient.INVALID)


class SlotMissed(Exception):
    """The request was not on the wire by its `send_by` instant, so it was not sent at all:
    nothing reached the provider, and the sender books a new rate-limit slot."""


@dataclass(frozen=True)
class SmsReceipt:
    provider_id: str
    status: str  # the provider's first status (queued, accepted, ...)
    segments: int


class SmsTransport(Protocol):
    def send_sms(self, to: str, body: str, send_by: float | None = None) -> SmsReceipt:
        """Send; with `send_by` (a time.monotonic() instant) raise SlotMissed, sending nothing,
        if the request would reach the wire later than that."""
        ...

    def find_sent(self, to: str, since: datetime, body: str) -> SmsReceipt | None:
        """The message `body` accepted for `to` since about `since`, if the provider shows it
        yet (after a lost answer or a crash mid-send). None means "not seen", not "not sent"."""
        ...


class EmailTransport(Protocol):
    def send_email(self, message: EmailMessage,
                   before_data: Callable[[], None] | None = None) -> str:
        """Send; `before_data` is called once just before the message itself is handed over."""
        ...
