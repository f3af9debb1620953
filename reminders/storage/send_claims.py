"""Sends that must happen exactly once, each claimed by one key (keys.send_claim), for what is
not a message kind on the send path: the care team's signed webhook (one per item and stage)
and the silence "call them" review item (one per person and silent stretch). SET NX, so two
sweeps, two workers or a retried task never do one twice. The value says how it went:
`claimed` (a sender owns it), `sent`, `failed`. A sender that fails for a reason worth retrying
releases its claim. Kept keys.SEND_CLAIM_TTL_SECONDS, longer than any stage or stretch.
Check-ins and escalation emails claimed here before they became kinds (storage/sends.py) are
still read, so none goes twice across the upgrade.
"""

from __future__ import annotations

from reminders.storage import codec
from reminders.storage import keys_care as keys
from reminders.storage.client import Client


def claim(client: Client, scope: str, key: str) -> bool:
    """True for the one caller that now owns this send."""
    return bool(client.set(keys.send_claim(scope, key), "claimed", nx=True,
                           ex=keys.SEND_CLAIM_TTL_SECONDS))


def finish(client: Client, scope: str, key: str, state: str) -> None:
    client.set(keys.send_claim(scope, key), state, ex=keys.SEND_CLAIM_TTL_SECONDS)


def release(client: Client, scope: str, key: str) -> None:
    """Give the send back (a transient failure): the next sweep or retry claims it again."""
    client.delete(keys.send_claim(scope, key))


def state(client: Client, scope: str, key: str) -> str:
    """claimed | sent | failed | "" (never claimed)."""
    return codec.text(client.get(keys.send_claim(scope, key)))
