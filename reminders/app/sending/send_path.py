"""The one send path: claim -> render -> pace -> send -> record, for every kind and channel.

A flow (the nightly evening in evenings/nightly.py, the weekly summary in evenings/weekly.py, a
caregiver's text in people/caregivers.py) decides that a message of a kind (domain/kinds.py) is due,
for whom, on which channel (domain/channels.py), and builds an `Outgoing`: the address, its ledger
(where the claim and outcome are kept: storage/ledgers.py), the words. Everything after that is
here, the same for every kind, so exactly-once, pacing, consent at send time and status tracking
hold by construction:

- a paced channel takes a place in the worker's send window and a rate-limit slot (with the
  circuit) first, so a cut window books no slot it cannot use (pacing.py, in_flight.py);
- the ledger is claimed (a retried, duplicated or second task gets "already <state>" or waits);
- consent is read again after the claim when the kind asks (`still_allowed`: a STOP that came
  while the text waited for its slot wins);
- a claim that takes over an attempt whose answer was lost looks the message up before sending
  again: at the provider (Lookup.PROVIDER_LIST: lost_answers.py), or by resending the same
  deterministic Message-ID (Lookup.MESSAGE_ID: message_ids.py);
- the provider's answer is read only through DeliveryError's neutral flags: `ambiguous` keeps
  the attempt for the next look-up, `overload` shrinks the send window, `permanent` records the
  failure and hands `recipient` to the channel's consent rule (recipient_consent.py), unless the
  flow says otherwise (`on_permanent`: a caregiver's STOP ends only the caregiver link);
- a sent message is recorded with its provider id, and indexed for status callbacks when its
  channel has them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, replace
from datetime import datetime
from email.message import EmailMessage

from reminders.app.sending import message_ids, recipient_consent
from reminders.app.sending.in_flight import SendWindow
from reminders.app.sending.lost_answers import Attempts, Recovery
from reminders.app.sending.pacing import Paced, Pacer
from reminders.app.sending.retry import RetryLater
from reminders.channels.base import (
    DeliveryError,
    Envelope,
    Receipt,
    Transport,
    refused_address,
)
from reminders.domain import channels
from reminders.domain.channels import ChannelSpec, Lookup
from reminders.domain.kinds import Kind
from reminders.domain.subscriber import Subscriber
from reminders.domain.validation import InvalidInput
from reminders.storage import counters
from reminders.storage.counters import Counters
from reminders.storage.ledgers import Ledger
from reminders.storage.nights import Claim, ClaimOutcome
from reminders.storage.rate_limit import RateLimiter
from reminders.storage.subscribers import Store

log = logging.getLogger(__name__)

# Another sender holds the claim: usually it finishes within a second, so look again soon,
# not at the lease's end.
BUSY_RECHECK_SECONDS = 5.0


@dataclass
class Outgoing:
    """One message of one kind on one channel, as a flow hands it to the send path."""

    kind: Kind
    channel: str
    # whose message (the consent a permanent answer changes); None: nobody's (the care team's)
    sub: Subscriber | None
    to: str  # the address on `channel`
    ledger: Ledger
    body: str = ""  # a text channel's words, rendered before pacing (segments are booked)
    segments: int = 1
    compose: Callable[[datetime], EmailMessage] | None = None  # an email, built once claimed
    message_id: str = ""  # Lookup.MESSAGE_ID channels: the message's deterministic id
    deadline: datetime | None = None  # nothing is sent after it (None: no evening deadline)
    still_allowed: Callable[[], bool] | None = None  # consent read again after the claim
    on_permanent: Callable[[DeliveryError], None] | None = None


class SendPath:
    def __init__(self, counted: Counters, store: Store, transports: dict[str, Transport],
                 pacer: Pacer, recovery: Recovery, window: SendWindow,
                 lease_seconds: float) -> None:
        # No Redis handle here: the ledgers, the store and the counters are storage's objects.
        self.counted = counted
        self.store = store
        self.transports = transports  # channel name -> its transport (wiring)
        self.pacer = pacer
        self.recovery = recovery
        self.window = window
        self.lease_seconds = lease_seconds

    def paced_by(self, limiter: RateLimiter | None) -> SendPath:
        """The same path with another rate limiter (a test's, a tool's)."""
        pacer = Pacer(self.counted, limiter, self.pacer.circuit, self.pacer.own)
        return SendPath(self.counted, self.store, self.transports, pacer, self.recovery,
                        self.window, self.lease_seconds)

    def send(self, out: Outgoing, now: datetime) -> str:
        """What happened: sent | missed | failed | inactive | already <state>; RetryLater
        when it must be tried again (busy, Retry-After, a transient failure, a look-up)."""
        spec = channels.get(out.channel)
        with self.window.slot() if spec.paced else nullcontext():
            return self._send(out, spec, now)

    def _pace(self, out: Outgoing, spec: ChannelSpec, now: datetime) -> Paced | None:
        """A paced channel's circuit and rate-limit slot, never past the deadline (None: the
        message is missed, and recorded so)."""
        if not spec.paced:
            return Paced(now, None)
        paced = self.pacer.for_channel(out.channel).gate(out.segments, now, out.deadline)
        if paced is None:
            log.warning("send missed subscriber=%s message=%s reason=rate-limit",
                        out.ledger.subscriber_id, out.ledger.name)
            out.ledger.finish("missed", reason="rate-limit")
        return paced

    def _send(self, out: Outgoing, spec: ChannelSpec, now: datetime) -> str:
        paced = self._pace(out, spec, now)
        if paced is None:
            return "missed"
        now, send_by = paced
        claim = out.ledger.claim(now, self.lease_seconds)
        if not claim.owned:
            return self._not_ours(out, claim, now)
        if out.still_allowed is not None and not out.still_allowed():
            out.ledger.drop()  # nothing was sent: the key stays free for a later consent
            return "inactive"
        fresh = claim.outcome == ClaimOutcome.CLAIMED
        attempts = Attempts.starting(now) if fresh else Attempts.parse(claim.detail)
        transport = self.transports[out.channel]
        if not fresh and spec.lookup == Lookup.PROVIDER_LIST:
            # A lost record after a Redis restart: its message, if any, was created before
            # the restart, so one look is enough (no recheck window to wait out).
            found = self.recovery.check(out.ledger, transport, out.to, out.body, attempts, now,
                                        patient=claim.outcome == ClaimOutcome.RECLAIMED)
            if found is not None:
                self._record_sent(out, found)
                return "sent"
        try:
            envelope = self._envelope(out, spec, now, reclaimed=not fresh)
            if spec.paced:
                receipt = self.pacer.for_channel(out.channel).send(
                    lambda by: transport.deliver(replace(envelope, send_by=by)),
                    out.segments, send_by, out.deadline, out.channel)
            else:
                receipt = transport.deliver(envelope)
        except DeliveryError as exc:
            if spec.paced and exc.overload and self.window.overloaded():
                self.counted.incr(counters.send_window_cuts(out.channel))
            return self._failed(out, exc, now, attempts.then(now))
        if spec.paced:
            self.window.succeeded()
        self._record_sent(out, receipt)
        return "sent"

    def _envelope(self, out: Outgoing, spec: ChannelSpec, now: datetime,
                  reclaimed: bool) -> Envelope:
        try:
            message = out.compose(now) if out.compose is not None else None
        except InvalidInput as exc:  # a stored address that fails today's checks: never sent
            raise refused_address(str(exc)) from None
        before_data = None
        if message is not None and spec.lookup == Lookup.MESSAGE_ID and out.message_id:
            before_data = message_ids.stamp(self.counted, out.ledger, message, out.message_id,
                                            reclaimed)
        return Envelope(out.to, out.body, message, before_data=before_data)

    def _not_ours(self, out: Outgoing, claim: Claim, now: datetime) -> str:
        """A claim this attempt does not own: the message's outcome, or RetryLater."""
        if claim.outcome == ClaimOutcome.BUSY:
            remaining = float(claim.detail) - now.timestamp()
            raise RetryLater(min(max(remaining, 1.0), BUSY_RECHECK_SECONDS),
                             "another attempt holds it")
        if claim.outcome == ClaimOutcome.WAIT:
            raise RetryLater(max(float(claim.detail) - now.timestamp(), 1.0),
                             "retry-after: the provider asked us to wait")
        log.info("send skip subscriber=%s message=%s reason=already-%s", out.ledger.subscriber_id,
                 out.ledger.name, claim.detail)
        return f"already {claim.detail}"

    def _record_sent(self, out: Outgoing, receipt: Receipt) -> None:
        # One round trip: the record, the id -> record index (status callbacks name only the
        # id) and, for an evening's last message, settling it (the ledger knows which).
        out.ledger.finish("sent", provider_id=receipt.provider_id, status=receipt.status)
        log.debug("sent subscriber=%s message=%s id=%s segments=%d", out.ledger.subscriber_id,
                  out.ledger.name, receipt.provider_id, receipt.segments)

    def _failed(self, out: Outgoing, exc: DeliveryError, now: datetime,
                attempts: Attempts) -> str:
        """`attempts`: the ones (this one included) that may have reached the provider."""
        if not exc.permanent:
            uncertain = attempts.encode() if exc.ambiguous else None
            # The circuit, not the message, holds off a refused account: a fixed token resumes.
            not_before = (None if exc.retry_after is None or exc.service
                          else now.timestamp() + exc.retry_after)
            out.ledger.release(exc.code, uncertain, not_before)
            log.warning("send retry subscriber=%s message=%s code=%s", out.ledger.subscriber_id,
                        out.ledger.name, exc.code)
            raise RetryLater(exc.retry_after, f"{exc.code}: {exc.message}")
        out.ledger.finish("failed", error=exc.code)
        log.warning("send failed subscriber=%s message=%s code=%s", out.ledger.subscriber_id,
                    out.ledger.name, exc.code)
        if out.on_permanent is not None:
            out.on_permanent(exc)
        elif out.sub is not None:
            recipient_consent.apply(self.store, out.sub, out.channel, exc.recipient, exc.code)
        return "failed"
