"""What a provider's answer about the person means for their consent: the one place that
decides. Transports say what the answer means in neutral terms (domain.channels.Recipient);
the channel's declaration (domain/channels.py `on_recipient`) names the state it leads to: an
opted-out number is opted out of SMS, an unreachable number invalid, an unreachable address
bouncing. A channel that declares nothing for an answer changes nothing (a failed call never
marks anyone's email). Errors about us (a refused credential, an inactive account) never get
here: they are `service` errors, retried for everyone (storage/circuit.py).
"""

from __future__ import annotations

from reminders.domain import channels
from reminders.domain.channels import Recipient
from reminders.domain.subscriber import Subscriber
from reminders.storage.subscribers import ConsentEvent, Store


def apply(store: Store, sub: Subscriber, channel: str, problem: Recipient, code: str) -> None:
    """The provider said `problem` about the person on `channel` (its own `code` is kept in
    the audit log)."""
    spec = channels.get(channel)
    state = spec.on_recipient.get(problem)
    if problem == Recipient.NONE or state is None:
        return
    fresh = store.get(sub.id) or sub
    if spec.state_of(fresh) != state:
        store.save(fresh, fresh.with_changes(**{spec.status: state}),
                   [ConsentEvent(channel, state, "provider", f"{spec.verdict_word} {code}")])
