"""The double opt-in requests: enrolled people get nothing else until they reply YES (or click
the emailed link). Built from explicit dependencies; returns what happened, the caller says it.

Each request is the `confirmation` kind (domain/kinds.py), once per (person, request): a new
request id each time one is asked for, and sent through the one send path (sending/send_path.py:
pacing under TWILIO_MPS, the record in storage/sends.py, status callbacks through the
message-id index, a deterministic Message-ID for the email). Nobody retries a request: a send
that fails is reported to the caller, and asking again is a new request. A caller that may ask
again for the same request (the console's asking, whose worker can die mid-send) names it
(`request`): the same name is the same record, so a text already sent is not sent again.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from reminders.app.people.email_consent import CONFIRMATION_WINDOW_SECONDS
from reminders.app.sending import message_ids
from reminders.app.sending.retry import RetryLater
from reminders.app.sending.send_path import Outgoing, SendPath
from reminders.channels.base import DeliveryError, refused_address
from reminders.domain import channels
from reminders.domain.gsm import count_segments
from reminders.domain.kinds import CONFIRMATION
from reminders.domain.states import EmailStatus, SmsStatus
from reminders.domain.subscriber import Subscriber
from reminders.domain.validation import format_clock
from reminders.messages.email import EmailComposer
from reminders.messages.replies import Replies
from reminders.storage.consent_log import ConsentEvent
from reminders.storage.subscribers import Store

log = logging.getLogger(__name__)

# A confirmation waits at most this long for its turn under TWILIO_MPS.
PACING_WAIT_SECONDS = 600.0


@dataclass(frozen=True)
class Asked:
    """Whether a confirmation went out; `problem` says why not, when the person was due one."""

    sent: bool
    problem: str = ""

    def __bool__(self) -> bool:
        return self.sent


@dataclass
class Confirmations:
    store: Store
    # Many at once (an import) share the account's throughput with the nightly texts: paced
    # as every text is.
    path: SendPath
    composer: EmailComposer
    replies: Replies
    program_name: str

    def _send(self, out: Outgoing, now: datetime) -> tuple[str, str]:
        """(sent | missed | the reason it was not sent, the code of a permanent refusal)."""
        refused: list[DeliveryError] = []
        # A refusal is reported to whoever asked; the person's consent state stays pending
        # (their YES, or a later request, settles it).
        out.on_permanent = refused.append
        try:
            sent = self.path.send(out, now)
        except RetryLater as exc:
            return exc.reason, ""
        if sent == "failed" and refused:
            return refused[0].message, refused[0].code
        return sent, ""

    def _outgoing(self, sub: Subscriber, channel: str, address: str,
                  request: str = "") -> Outgoing:
        # One request, one record: its id is new each time one is asked for, unless the caller
        # names the request (then the same name finds the same record).
        tag = (hashlib.sha256(request.encode()).hexdigest() if request
               else uuid.uuid4().hex)[:16]
        request = f"{channel}-{tag}"
        ledger = self.store.ledgers.sends(sub.id, f"{CONFIRMATION.name}:{request}",
                                          index=channels.get(channel).status_callbacks)
        return Outgoing(CONFIRMATION, channel, sub, address, ledger)

    def text(self, sub: Subscriber, request: str = "") -> Asked:
        if not (sub.phone and sub.sms_status == SmsStatus.PENDING):
            return Asked(False)
        replies = self.replies.in_language(sub.language)
        body = replies.text("confirm", program_name=self.program_name,
                            time=format_clock(sub.send_time),
                            lighter=sub.frequency == "lighter")
        now = datetime.now(UTC)
        out = self._outgoing(sub, "sms", sub.phone, request)
        out.body, out.segments = body, count_segments(body).segments
        out.deadline = now + timedelta(seconds=PACING_WAIT_SECONDS)
        sent, _ = self._send(out, now)
        if sent == "missed":
            return Asked(False, "the confirmation text could not be sent (rate limit: no slot "
                                "in time)")
        if sent == "already sent":
            return Asked(True)  # this named request went out before (its sender then died)
        if sent != "sent":
            log.warning("confirmation not sent subscriber=%s reason=%s", sub.id, sent)
            return Asked(False, f"the confirmation text could not be sent ({sent})")
        # What the opt-in request said, for an audit (the wording's version, not the text).
        self.store.consent_log.record(sub.id, ConsentEvent(
            "sms", "confirmation_sent", "service", "",
            replies.template_version("confirm")))
        return Asked(True)

    def mail(self, sub: Subscriber, claimed: bool = False, request: str = "") -> Asked:
        """The confirmation email. `claimed`: the inbox's one email of the day is booked
        already (a texted EMAIL books it with the number's own limit); otherwise it is booked
        here, so an operator's `subscribe`, `set email=`, import or console form counts too."""
        if not (sub.email and sub.email_status == EmailStatus.PENDING):
            return Asked(False)
        if self.store.is_suppressed_email(sub.email):
            # Whatever path led here (CLI, import, a text): an address that unsubscribed is
            # never asked again; only its owner's own request (a confirmation link) lifts that.
            log.info("email confirmation not sent subscriber=%s reason=suppressed", sub.id)
            return Asked(False)
        limits = self.store.limits
        if not claimed and not limits.claim_inbox(sub.email, CONFIRMATION_WINDOW_SECONDS):
            log.info("email confirmation not sent subscriber=%s reason=inbox_limit", sub.id)
            return Asked(False, "a confirmation email went to this inbox in the last 24 hours "
                                "(one a day at most): its link still works")
        now = datetime.now(UTC)
        out = self._outgoing(sub, "email", sub.email, request)
        out.compose = lambda at: self.composer.confirmation(sub, at)
        # Deterministic per request: a message repeated after a lost answer is the same one.
        out.message_id = message_ids.message_id_for(
            self.composer.secret_key,
            CONFIRMATION.key(sub.id, out.ledger.name.partition(":")[2]), "confirm", now.date(),
            self.composer.domain)
        sent, refused = self._send(out, now)
        if sent != "sent":
            log.warning("email confirmation not sent subscriber=%s reason=%s", sub.id, sent)
            if refused != refused_address("").code:  # a stored address failing today's checks
                limits.release_inbox(sub.email)  # nothing reached it: ask again later
            return Asked(False, f"the confirmation email could not be sent ({sent})")
        return Asked(True)
