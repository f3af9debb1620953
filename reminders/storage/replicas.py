"""Writes that must survive a failover: WAIT until a replica holds them.

Redis replicates asynchronously, so a write acknowledged by the master can vanish when Sentinel
promotes a replica that had not received it yet. Three losses would break a promise: the night
claim made before a send (the evening would be sent again), the record of a send (the same),
an opt-out or a preference change (a STOP forgotten). Their owners (nights.claim,
nights.finish, subscribers.Store) make it through `write`, which sends `WAIT n timeout` in the
same round trip, on the same connection (WAIT covers what *its* connection wrote): it returns
once n replicas hold the write. Transactions (a save's WATCH/MULTI) `confirm` just after them:
the pool hands a thread back the connection it just released, so in a single-threaded process
(the CLI, gunicorn's sync workers, a prefork pool process) the WAIT covers the write; where
threads share the client it may land on a connection that wrote nothing and confirm nothing.

How many replicas (REDIS_MIN_REPLICAS_ACK): `auto` (the default) waits for one when the master
reports a connected replica (INFO replication, looked at again every REFRESH_SECONDS) and for
none otherwise, so a single Redis pays nothing; a number N waits for N; 0 never waits.
REDIS_WAIT_TIMEOUT_MS bounds each wait.

When fewer replicas acknowledge in time, `confirm` looks again whether one is connected at all.
In `auto` mode, none connected means the master runs alone (a failover just took its only
replica, or it is being replaced): writes go on, with a warning line, since refusing would
stop every send until an operator adds a replica. Otherwise the write is not confirmed:
`NotReplicated` (a RedisError; the callers' Redis handling retries) is raised by the owners
where a retry is safe: a claim is released before anything is sent.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import redis

from reminders.storage.errors import Contended

log = logging.getLogger(__name__)

REFRESH_SECONDS = 5.0
DEFAULT_TIMEOUT_MS = 500
_ATTRIBUTE = "_reminders_replicas"


class NotReplicated(Contended):
    """A replica is connected but did not acknowledge the write in time: try again later."""


@dataclass
class _Policy:
    wanted: int | None = None  # None: auto (one when a replica is connected)
    timeout_ms: int = DEFAULT_TIMEOUT_MS
    connected: int = 0  # auto: replicas last seen connected ...
    seen_until: float = 0.0  # ... valid until this monotonic time


def configure(client: redis.Redis, wanted: int | None, timeout_ms: int) -> None:
    """Set the client's policy (settings: REDIS_MIN_REPLICAS_ACK, REDIS_WAIT_TIMEOUT_MS)."""
    setattr(client, _ATTRIBUTE, _Policy(wanted, timeout_ms))


def _policy(client: redis.Redis) -> _Policy:
    policy = getattr(client, _ATTRIBUTE, None)
    if policy is None:  # a client made without settings (a tool, a test): auto
        policy = _Policy()
        setattr(client, _ATTRIBUTE, policy)
    return policy


def connected(client: redis.Redis) -> int:
    """Replicas connected to the master (0 when INFO is refused: nothing to wait for)."""
    try:
        info = client.info("replication")
    except redis.ResponseError:
        return 0
    return int(info.get("connected_slaves", 0))


def _wanted(client: redis.Redis, policy: _Policy) -> int:
    if policy.wanted is not None:
        return policy.wanted
    now = time.monotonic()
    if now >= policy.seen_until:
        policy.connected, policy.seen_until = connected(client), now + REFRESH_SECONDS
    return min(1, policy.connected)


def write(client: redis.Redis, what: str,
          call: Callable[[redis.Redis | redis.client.Pipeline], Any]) -> tuple[Any, bool]:
    """`call(target)` makes one write on `target`; with replicas to wait for, it is queued in a
    pipeline followed by WAIT. Returns what the write returned, and whether it is confirmed."""
    policy = _policy(client)
    wanted = _wanted(client, policy)
    if wanted == 0:
        return call(client), True
    with client.pipeline(transaction=False) as pipe:
        call(pipe)
        pipe.wait(wanted, policy.timeout_ms)
        result, acks = pipe.execute()
    return result, _judge(client, policy, what, wanted, int(acks))


def confirm(client: redis.Redis, what: str) -> bool:
    """Wait until the replicas hold this connection's writes; False when they did not."""
    policy = _policy(client)
    wanted = _wanted(client, policy)
    if wanted == 0:
        return True
    return _judge(client, policy, what, wanted, int(client.wait(wanted, policy.timeout_ms)))


def _judge(client: redis.Redis, policy: _Policy, what: str, wanted: int, acks: int) -> bool:
    if acks >= wanted:
        return True
    if policy.wanted is None:
        policy.connected = connected(client)
        policy.seen_until = time.monotonic() + REFRESH_SECONDS
        if policy.connected == 0:
            log.warning("write not replicated what=%s reason=no-replica-connected", what)
            return True
    log.warning("write not replicated what=%s acks=%d wanted=%d timeout_ms=%d", what, acks,
                wanted, policy.timeout_ms)
    return False


def require(client: redis.Redis, what: str) -> None:
    """`confirm`, or NotReplicated."""
    if not confirm(client, what):
        raise NotReplicated(f"{what}: no replica acknowledged it in time")
