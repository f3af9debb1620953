"""An attempt whose outcome is unknown: find its message at the provider, wait, or send again.

A timeout or a dropped connection after Twilio accepted the message, or a worker killed
mid-send, leaves an evening whose text may be sitting in Twilio's queue. Twilio has no
idempotency key for a message creation, so the next attempt looks first: the recipient's newest
messages, for tonight's body, created since the first attempt that may have reached Twilio
(channels/twilio_sms.py). A queued message has no date_sent, so a DateSent filter would not
see it; and Twilio's list can lag behind a creation (as users of twilio-node and twilio-java
report). "Not found" therefore means "not known yet": the lookup is repeated every
RECHECK_INTERVAL until the message shows up or `SMS_RECHECK_SECONDS` have passed since the last
attempt that may have reached Twilio; only then is the text sent again. The remaining window: a
message Twilio lists later than that is sent twice.

The night record keeps those attempts as `<ch>_since` / `<ch>_uncertain` = "first:last" (epoch
seconds; a plain number from older records or a first attempt means first = last).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from reminders.app.sending.retry import RetryLater
from reminders.channels.base import DeliveryError, Receipt, Transport
from reminders.storage.ledgers import Ledger

log = logging.getLogger(__name__)

RECHECK_INTERVAL = 15.0


@dataclass(frozen=True)
class Attempts:
    """When the attempts that may have reached the provider started (epoch seconds)."""

    first: float
    last: float

    @classmethod
    def parse(cls, raw: str) -> Attempts:
        first, _, last = raw.partition(":")
        return cls(float(first), float(last or first))

    @classmethod
    def starting(cls, now: datetime) -> Attempts:
        return cls(now.timestamp(), now.timestamp())

    def then(self, now: datetime) -> Attempts:
        """These, and one more that starts `now`."""
        return Attempts(self.first, max(self.last, now.timestamp()))

    def encode(self) -> str:
        return f"{self.first!r}:{self.last!r}"


class Recovery:
    """The look-up after a lost answer, for every kind on a channel whose provider can be asked
    (Lookup.PROVIDER_LIST); the ledger is the message's record, whatever its kind."""

    def __init__(self, recheck_seconds: float) -> None:
        self.recheck_seconds = recheck_seconds

    def check(self, ledger: Ledger, transport: Transport, to: str, body: str,
              attempts: Attempts, now: datetime, patient: bool = True) -> Receipt | None:
        """The message of an earlier attempt, if the provider shows it; None once it is safe
        to send again; RetryLater while it may still show up. The message is claimed by the
        caller. `patient=False`: one look decides (a record lost with a Redis restart)."""
        try:
            found = transport.find_sent(to, datetime.fromtimestamp(attempts.first, UTC), body)
        except DeliveryError as exc:
            not_before = (None if exc.retry_after is None or exc.service
                          else now.timestamp() + exc.retry_after)
            ledger.release(exc.code, attempts.encode(), not_before)
            raise RetryLater(exc.retry_after, f"{exc.code}: cannot check earlier attempt: {exc}"
                             ) from exc
        if found is not None:
            log.warning("send recovered subscriber=%s message=%s sid=%s", ledger.subscriber_id,
                        ledger.name, found.provider_id)
            return found
        waited = now.timestamp() - attempts.last
        if patient and waited < self.recheck_seconds:
            ledger.release("unknown", attempts.encode())
            log.info("send recheck subscriber=%s message=%s reason=earlier-attempt-not-listed "
                     "waited=%.0fs", ledger.subscriber_id, ledger.name, waited)
            raise RetryLater(min(RECHECK_INTERVAL, self.recheck_seconds - waited),
                             "unknown: earlier attempt not listed at the provider yet")
        log.warning("send again subscriber=%s message=%s reason=earlier-attempt-not-found "
                    "waited=%.0fs", ledger.subscriber_id, ledger.name, waited)
        # Should this sender die mid-send too, whoever reclaims the message looks for both.
        ledger.note_attempts(attempts.then(now).encode())
        return None
