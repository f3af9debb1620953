"""The double opt-in requests: enrolled people get nothing else until they reply YES (or click
the emailed link). Built from explicit dependencies; returns what happened, the caller says it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from reminders.app.email_consent import CONFIRMATION_WINDOW_SECONDS
from reminders.channels.base import DeliveryError, EmailTransport, SmsTransport
from reminders.domain.gsm import count_segments
from reminders.domain.states import EmailStatus, SmsStatus
from reminders.domain.subscriber import Subscriber
from reminders.domain.validation import InvalidInput, format_clock
from reminders.messages.email import EmailComposer
from reminders.messages.replies import Replies
from reminders.storage import consent_log, limits
from reminders.storage.consent_log import ConsentEvent
from reminders.storage.rate_limit import RateLimiter
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
    sms: SmsTransport
    email: EmailTransport
    composer: EmailComposer
    replies: Replies
    program_name: str
    # Many at once (an import) share the account's throughput with the nightly texts.
    limiter: RateLimiter | None = None

    def text(self, sub: Subscriber) -> Asked:
        if not (sub.phone and sub.sms_status == SmsStatus.PENDING):
            return Asked(False)
        replies = self.replies.in_language(sub.language)
        body = replies.text("confirm", program_name=self.program_name,
                            time=format_clock(sub.send_time),
                            lighter=sub.frequency == "lighter")
        if self.limiter is not None and not self.limiter.acquire(
                count_segments(body).segments, give_up_after=PACING_WAIT_SECONDS):
            return Asked(False, "the confirmation text could not be sent (rate limit: no slot "
                                "in time)")
        try:
            self.sms.send_sms(sub.phone, body)
        except DeliveryError as exc:
            log.warning("confirmation not sent subscriber=%s code=%s", sub.id, exc.code)
            return Asked(False, f"the confirmation text could not be sent ({exc.message})")
        # What the opt-in request said, for an audit (the wording's version, not the text).
        consent_log.record(self.store.redis, sub.id, ConsentEvent(
            "sms", "confirmation_sent", "service", "",
            replies.template_version("confirm")))
        return Asked(True)

    def mail(self, sub: Subscriber, claimed: bool = False) -> Asked:
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
        redis = self.store.redis
        if not claimed and not limits.claim_inbox(redis, sub.email, CONFIRMATION_WINDOW_SECONDS):
            log.info("email confirmation not sent subscriber=%s reason=inbox_limit", sub.id)
            return Asked(False, "a confirmation email went to this inbox in the last 24 hours "
                                "(one a day at most): its link still works")
        try:
            message = self.composer.confirmation(sub, datetime.now(UTC))
        except InvalidInput as exc:
            log.warning("email confirmation not sent subscriber=%s reason=invalid_address",
                        sub.id)
            return Asked(False, f"the confirmation email could not be sent ({exc})")
        try:
            self.email.send_email(message)
        except DeliveryError as exc:
            log.warning("email confirmation not sent subscriber=%s code=%s", sub.id, exc.code)
            limits.release_inbox(redis, sub.email)  # nothing reached it: ask again later
            return Asked(False, f"the confirmation email could not be sent ({exc.message})")
        return Asked(True)
