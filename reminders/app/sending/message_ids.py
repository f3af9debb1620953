"""Every email is one message per (person, kind, period), however often it has to be tried.

SMTP cannot say whether a message went through when the connection (or the worker) dies after
the message was handed over with DATA but before the server's reply: the server may have queued
it. We cannot ask the server afterwards, as we ask Twilio for texts (the email channel's
declaration says Lookup.MESSAGE_ID), so the choice is between resending (maybe twice) and not
resending (maybe never). We resend, and make the copy the same message: every email the send
path sends has a Message-ID derived from its idempotency key (the nightly one: subscriber and
local date; the weekly one: subscriber and ISO week) and the sender's domain, keyed with
SECRET_KEY so it names nobody, and the attempt is recorded in the message's ledger just before
DATA (`<field>_data_at`, with the `Date` header used). A retry that takes over such an attempt
sends the identical Message-ID and Date, so mail systems that deduplicate by Message-ID show one
message, and it is counted (`resent_after_data:email`). The remaining window is in
docs/operations.md, "Delivery guarantees".
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Callable
from datetime import UTC, date, datetime
from email.message import EmailMessage

from reminders.storage import counters
from reminders.storage.counters import Counters
from reminders.storage.ledgers import Ledger

log = logging.getLogger(__name__)


def message_id_for(secret: str, seed: str, label: str, day: date, domain: str) -> str:
    """The Message-ID of the message whose idempotency key is `seed` (RFC 5322 msg-id)."""
    digest = hmac.new(secret.encode(), seed.encode(), hashlib.sha256).hexdigest()[:32]
    return f"<{label}.{day:%Y%m%d}.{digest}@{domain}>"


def message_id(secret: str, subscriber_id: str, local_date: date, domain: str) -> str:
    """The Message-ID of one person's nightly email for one local evening (as it always was)."""
    return message_id_for(secret, f"nightly:{subscriber_id}:{local_date.isoformat()}",
                          "reminder", local_date, domain)


def stamp(counted: Counters, ledger: Ledger, message: EmailMessage, mid: str,
          reclaimed: bool) -> Callable[[], None]:
    """Give `message` its Message-ID `mid` (and, when it repeats an attempt that reached DATA,
    that attempt's Date); return what records this attempt just before DATA."""
    _set(message, "Message-ID", mid)  # in place of the random one the composer gave it
    if reclaimed:  # an earlier attempt died or timed out: did it get as far as DATA?
        reached, sent_date = ledger.data_attempt()
        if reached and sent_date:
            _set(message, "Date", sent_date)
            log.warning("send email repeat subscriber=%s message=%s reason=earlier-attempt-"
                        "reached-data message_id=%s", ledger.subscriber_id, ledger.name, mid)
            counted.incr(counters.EMAIL_REPEATS)

    def before_data() -> None:
        ledger.record_data_attempt(mid, str(message["Date"]), datetime.now(UTC).timestamp())

    return before_data


def _set(message: EmailMessage, name: str, value: str) -> None:
    del message[name]
    message[name] = value
