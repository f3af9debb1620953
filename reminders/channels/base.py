"""The interface every delivery channel implements, and the one error they raise."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from typing import Protocol

from reminders.domain.channels import Recipient

__all__ = ["DeliveryError", "EmailDelivery", "EmailTransport", "Envelope", "Receipt",
           "Recipient", "SlotMissed", "SmsDelivery", "SmsReceipt", "SmsTransport", "Transport"]


class DeliveryError(Exception):
    """A send did not happen (as far as we know), in no provider's vocabulary.

    The transport sorts its provider's answers into these flags; app code reads the flags and
    never a provider code (`code` is only logged and recorded):
    `permanent`: never retried (opted-out recipient, invalid number, hard bounce); the others
    are retried with backoff while the message is still due. `retry_after`: the provider's own
    hint in seconds, when it gave one. `service`: says nothing about the person (the provider
    refused our account or its credentials): retried, never held against the recipient, and
    sending stops for everyone for a while (circuit.py). `recipient`: what the answer means for
    the person (Recipient); the channel's declaration says what follows for their consent.
    `ambiguous`: the provider may have accepted the message anyway (a timeout or a connection
    lost after the request was written): the next attempt looks it up first.
    `overload`: the provider asks for fewer requests at once (Twilio's 429): the worker's send
    window shrinks (in_flight.py).
    """

    def __init__(
        self, message: str, permanent: bool = False, code: str = "",
        retry_after: float | None = None, service: bool = False,
        recipient: Recipient = Recipient.NONE, ambiguous: bool = False,
        overload: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.code = code
        self.retry_after = retry_after
        self.service = service
        self.recipient = recipient
        self.ambiguous = ambiguous
        self.overload = overload


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


# -- what the one send path (app/sending/send_path.py) calls, whatever the channel
# ------------------
Receipt = SmsReceipt  # provider id, first status, segments (1 where the channel has none)


@dataclass(frozen=True)
class Envelope:
    """One message on its way: the address, and the body its channel carries (a text's
    words, an email's MIME message), with the send path's hooks."""

    to: str
    body: str = ""
    email: EmailMessage | None = None
    send_by: float | None = None  # a paced channel's slot: on the wire by then (SlotMissed)
    before_data: Callable[[], None] | None = None  # email: called just before DATA


class Transport(Protocol):
    """A channel's transport, as the send path sees it. A new channel implements these two
    (or wraps its provider's client in an adapter like the two below)."""

    def deliver(self, envelope: Envelope) -> Receipt:
        """Send (DeliveryError with neutral flags; SlotMissed: nothing was sent)."""
        ...

    def find_sent(self, to: str, since: datetime, body: str) -> Receipt | None:
        """After a lost answer: the message, if the provider shows it (channels whose
        declaration says Lookup.PROVIDER_LIST); None means "not seen", not "not sent"."""
        ...


class SmsDelivery:
    """An SmsTransport as a Transport."""

    def __init__(self, sms: SmsTransport) -> None:
        self.sms = sms

    def deliver(self, envelope: Envelope) -> Receipt:
        return self.sms.send_sms(envelope.to, envelope.body, envelope.send_by)

    def find_sent(self, to: str, since: datetime, body: str) -> Receipt | None:
        return self.sms.find_sent(to, since, body)


class EmailDelivery:
    """An EmailTransport as a Transport (SMTP cannot be asked afterwards: Lookup.MESSAGE_ID)."""

    def __init__(self, email: EmailTransport) -> None:
        self.email = email

    def deliver(self, envelope: Envelope) -> Receipt:
        assert envelope.email is not None
        return Receipt(self.email.send_email(envelope.email, envelope.before_data), "sent", 1)

    def find_sent(self, to: str, since: datetime, body: str) -> Receipt | None:
        return None
