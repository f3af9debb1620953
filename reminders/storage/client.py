"""The Redis client: how one is made, how the server is checked at start, and the names the
layers above storage/ use for it (they hold a client and catch its errors, never import redis).
"""

from __future__ import annotations

import logging
from typing import Any

from redis import ConnectionError as ConnectionError
from redis import Redis as Client
from redis import RedisError as RedisError
from redis import ResponseError
from redis import TimeoutError as TimeoutError
from redis.client import Pipeline as Pipeline

log = logging.getLogger(__name__)


class RedisUnavailable(RuntimeError):
    """Redis does not answer, or is configured so that it could lose the schedule."""


def connect(url: str) -> Client:
    return Client.from_url(url, socket_timeout=10, socket_connect_timeout=5,
                           health_check_interval=30)


def check_redis(client: Client, url: str) -> None:
    """Redis must answer and must never evict keys (the schedule lives there).

    A Redis that hides CONFIG (renamed or disabled, as managed services do, or denied by an
    ACL) cannot be checked: that is said in one warning line, never passed over in silence.
    """
    try:
        client.ping()
    except RedisError as exc:
        raise RedisUnavailable(f"REDIS_URL {url} does not answer: {exc}") from None
    try:
        policy: Any = client.config_get("maxmemory-policy").get("maxmemory-policy")
    except ResponseError as exc:
        policy, why = None, str(exc)
    else:
        why = "CONFIG GET gave no maxmemory-policy"
    if policy is None:
        log.warning("cannot check that Redis at REDIS_URL never evicts keys (%s); make sure its "
                    "maxmemory-policy is noeviction, or reminders could be silently dropped",
                    why)
        return
    if isinstance(policy, bytes):
        policy = policy.decode()
    if policy != "noeviction":
        raise RedisUnavailable(
            f"Redis at REDIS_URL uses maxmemory-policy {policy}; it must be noeviction "
            "or reminders could be silently dropped (set: CONFIG SET maxmemory-policy noeviction)"
        )


