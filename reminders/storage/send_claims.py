"""Sends that must happen exactly once, each claimed by one key (keys.send_claim), for what is
not a message kind on the send path: the care team's signed webhook (one per item and stage)
and the silence "call them" review item (one per person and silent stretch). SET NX, so two
sweeps, two workers or a retried task never do one twice. The value says how it went:
`claimed` (a sender owns it), `sent`, `failed`. A sender that fails for a reason worth retrying
releases its claim. Kept keys.SEND_CLAIM_TTL_SECONDS, longer than any stage or stretch.
A claim taken with a lease (the console's confirmation requests) can be taken again once it is
older than the lease and not finished: its worker died mid-send. That is only safe for a send
whose message has its own exactly-once record under it (the send path's ledger, keyed by the
same key), so a retaken claim finds the text already sent, or looks it up, rather than sending
it twice (lua/send_claim_take.lua).
Check-ins and escalation emails claimed here before they became kinds (storage/sends.py) are
still read, so none goes twice across the upgrade.
"""

from __future__ import annotations

from reminders.storage import codec
from reminders.storage import keys_care as keys
from reminders.storage.client import Client
from reminders.storage.lua import script

CLAIMED = "claimed"


def claim(client: Client, scope: str, key: str, now: float | None = None,
          lease_seconds: float | None = None) -> bool:
    """True for the one caller that now owns this send. With a lease (and `now`, epoch
    seconds): also when the claim found is unfinished and older than `lease_seconds`."""
    if lease_seconds is None or now is None:
        return bool(client.set(keys.send_claim(scope, key), CLAIMED, nx=True,
                               ex=keys.SEND_CLAIM_TTL_SECONDS))
    return bool(script(client, "send_claim_take")(
        keys=[keys.send_claim(scope, key)],
        args=[repr(float(now)), lease_seconds, keys.SEND_CLAIM_TTL_SECONDS]))


def finish(client: Client, scope: str, key: str, state: str) -> None:
    client.set(keys.send_claim(scope, key), state, ex=keys.SEND_CLAIM_TTL_SECONDS)


def release(client: Client, scope: str, key: str) -> None:
    """Give the send back (a transient failure): the next sweep or retry claims it again."""
    client.delete(keys.send_claim(scope, key))


def state(client: Client, scope: str, key: str) -> str:
    """claimed | sent | failed | "" (never claimed)."""
    value = codec.text(client.get(keys.send_claim(scope, key)))
    return CLAIMED if value.startswith(CLAIMED) else value
