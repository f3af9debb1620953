"""A nightly email is one message per evening, however often it has to be tried.

SMTP cannot say whether a message went through when the connection (or the worker) dies after
the message was handed over with DATA but before the server's reply: the server may have queued
it. We cannot ask the server afterwards, as we ask Twilio for texts, so the choice is between
resending (maybe twice) and not resending (maybe never). We resend, and make the copy the same
message: every nightly email has a Message-ID derived from the subscriber, the local date and
the sender's domain (keyed with SECRET_KEY, so it names nobody), and the attempt is recorded in
the night record just before DATA (`email_data_at`, with the `Date` header used). A retry that
takes over such an attempt sends the identical Message-ID and Date, so mail systems that
deduplicate by Message-ID show one message, and it is counted (`resent_after_data:email`).
The remaining window is in docs/operations.md, "Delivery guarantees".
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Callable
from datetime import UTC, date, datetime
from email.message import EmailMessage

from reminders.messages.email import EmailComposer
from reminders.storage import counters, nights
from reminders.storage.client import Client

log = logging.getLogger(__name__)


def message_id(secret: str, subscriber_id: str, local_date: date, domain: str) -> str:
    """The Message-ID of one person's email for one local evening (RFC 5322 msg-id)."""
    digest = hmac.new(secret.encode(),
                      f"nightly:{subscriber_id}:{local_date.isoformat()}".encode(),
                      hashlib.sha256).hexdigest()[:32]
    return f"<reminder.{local_date:%Y%m%d}.{digest}@{domain}>"


def stamp(client: Client, message: EmailMessage, subscriber_id: str, local_date: date,
          composer: EmailComposer, reclaimed: bool) -> Callable[[], None]:
    """Give `message` its evening's Message-ID (and, when it repeats an attempt that reached
    DATA, that attempt's Date); return what records this attempt just before DATA."""
    mid = message_id(composer.secret_key, subscriber_id, local_date, composer.domain)
    _set(message, "Message-ID", mid)  # in place of the random one the composer gave it
    if reclaimed:  # an earlier attempt died or timed out: did it get as far as DATA?
        reached, sent_date = nights.email_attempt(client, subscriber_id, local_date)
        if reached and sent_date:
            _set(message, "Date", sent_date)
            log.warning("send email repeat subscriber=%s date=%s reason=earlier-attempt-"
                        "reached-data message_id=%s", subscriber_id, local_date, mid)
            counters.incr(client, counters.EMAIL_REPEATS)

    def before_data() -> None:
        nights.record_email_attempt(client, subscriber_id, local_date, mid,
                                    str(message["Date"]), datetime.now(UTC).timestamp())

    return before_data


def _set(message: EmailMessage, name: str, value: str) -> None:
    del message[name]
    message[name] = value

