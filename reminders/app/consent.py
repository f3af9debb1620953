"""What a provider's permanent error says about the person: the one place that decides.

Only errors about the recipient change their consent state: 21610 (they texted STOP to
Twilio) opts them out, an invalid or unreachable number marks it invalid, a hard bounce marks
the address bouncing. Errors about us (a refused credential, an inactive account) never get
here: they are `service` errors, retried for everyone (circuit.py).
"""

from __future__ import annotations

from reminders.channels.twilio_sms import INVALID_NUMBER, OPTED_OUT
from reminders.domain.subscriber import Subscriber
from reminders.storage.subscribers import ConsentEvent, Store


def apply_sms_error(store: Store, sub: Subscriber, code: str) -> None:
    """Errors that say something about the person: stop texting them."""
    if code == OPTED_OUT and sub.sms_status != "opted_out":
        state = "opted_out"
    elif code in INVALID_NUMBER and sub.sms_status != "invalid":
        state = "invalid"
    else:
        return
    fresh = store.get(sub.id) or sub
    store.save(fresh, fresh.with_changes(sms_status=state),
               [ConsentEvent("sms", state, "provider", f"error {code}")])


def mark_bouncing(store: Store, sub: Subscriber, code: str) -> None:
    fresh = store.get(sub.id) or sub
    if fresh.email_status != "bouncing":
        store.save(fresh, fresh.with_changes(email_status="bouncing"),
                   [ConsentEvent("email", "bouncing", "provider", f"smtp {code}")])
