"""Sends that must happen exactly once, each claimed by one key (keys.send_claim).

The care-team escalations (one per item, stage and channel) and the silence check-in (one per
person and silent stretch) claim here before sending: SET NX, so two sweeps, two workers or a
retried task never send one twice. The value says how it went: `claimed` (a sender owns it),
`sent`, `failed`. A sender that fails for a reason worth retrying releases its claim. Kept
keys.SEND_CLAIM_TTL_SECONDS, longer than any stage or stretch.
When the message pipeline's kinds land, each of these keys is a kind's idempotency key.
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
