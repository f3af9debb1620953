"""What a provider's answer about the person means for their consent: the one place that
decides. Channels say what the answer means in neutral terms (channels.base.Recipient); here
an opted-out recipient is opted out of SMS, an unreachable number is marked invalid, an
unreachable address bouncing. Errors about us (a refused credential, an inactive account) never
get here: they are `service` errors, retried for everyone (storage/circuit.py).
"""

from __future__ import annotations

from reminders.channels.base import Recipient
from reminders.domain.states import EmailStatus, SmsStatus
from reminders.domain.subscriber import Subscriber
from reminders.storage.subscribers import ConsentEvent, Store


def apply(store: Store, sub: Subscriber, channel: str, problem: Recipient, code: str) -> None:
    """The provider said `problem` about the person on `channel` (its own `code` is kept in
    the audit log)."""
    if problem == Recipient.NONE:
        return
    fresh = store.get(sub.id) or sub
    if channel == "sms":
        state = SmsStatus.OPTED_OUT if problem == Recipient.OPTED_OUT else SmsStatus.INVALID
        if fresh.sms_status != state:
            store.save(fresh, fresh.with_changes(sms_status=state),
                       [ConsentEvent("sms", state, "provider", f"error {code}")])
    elif fresh.email_status != EmailStatus.BOUNCING:
        store.save(fresh, fresh.with_changes(email_status=EmailStatus.BOUNCING),
                   [ConsentEvent("email", "bouncing", "provider", f"smtp {code}")])
