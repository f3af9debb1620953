"""The Redis client: how one is made (a plain URL, or Sentinel's `sentinel://` list of
sentinels and a master name), how the server is checked at start, and the names the layers
above storage/ use for it (they hold a client and catch its errors, never import redis).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from redis import ConnectionError as ConnectionError
from redis import Redis as Client
from redis import RedisError as RedisError
from redis import ResponseError
from redis import TimeoutError as TimeoutError
from redis.client import Pipeline as Pipeline
from redis.sentinel import Sentinel, SentinelConnectionPool

log = logging.getLogger(__name__)

SENTINEL_SCHEME = "sentinel://"


class RedisUnavailable(RuntimeError):
    """Redis does not answer, or is configured so that it could lose the schedule."""


@dataclass(frozen=True)
class SentinelUrl:
    """`sentinel://[user:pass@]h1:26379;sentinel://h2:26379/0` (kombu's form: one URL per
    sentinel, `;` between them). The credentials are the master's and the sentinels' (one
    password for both, as docker-compose.yml sets it); the database number may be on any part
    (kombu reads the first part's, so `kombu_url` puts it on every part)."""

    hosts: tuple[tuple[str, int], ...]
    db: int
    username: str | None
    password: str | None

    @classmethod
    def parse(cls, url: str) -> SentinelUrl:
        hosts, dbs, username, password = [], set(), None, None
        for part in url.split(";"):
            split = urlsplit(part.strip())
            if split.scheme != "sentinel" or not split.hostname:
                raise ValueError(f"{part!r} is not sentinel://HOST[:PORT]")
            hosts.append((split.hostname, split.port or 26379))
            if split.path.strip("/"):
                dbs.add(int(split.path.strip("/")))
            username = unquote(split.username) if split.username else username
            password = unquote(split.password) if split.password else password
        if len(dbs) > 1:
            raise ValueError("the sentinel URLs name different database numbers")
        return cls(tuple(hosts), dbs.pop() if dbs else 0, username, password)

    def sentinel_kwargs(self) -> dict[str, Any]:
        """How to connect to a sentinel: a short timeout (they answer at once or not at all:
        move on to the next one) and, when the URL has them, the credentials (a sentinel with
        `requirepass` refuses every command without them)."""
        options: dict[str, Any] = {"socket_timeout": 2, "socket_connect_timeout": 2}
        if self.password is not None:
            options.update(username=self.username, password=self.password)
        return options

    def kombu_url(self) -> str:
        auth = ""
        if self.password is not None:
            auth = f"{self.username or ''}:{self.password}@"
        return ";".join(f"sentinel://{auth}{host}:{port}/{self.db}" for host, port in self.hosts)


def is_redis_url(url: str) -> bool:
    """A URL this module connects to (Redis itself or Sentinel), as opposed to e.g. AMQP."""
    return url.startswith(("redis://", "rediss://", "unix://", SENTINEL_SCHEME))


def sentinel_options(url: str, sentinel_password: str = "") -> dict[str, Any]:
    """How to reach the sentinels of a sentinel:// URL: REDIS_SENTINEL_PASSWORD when set (the
    sentinels' own), else the URL's credentials (one password for master and sentinels)."""
    options = SentinelUrl.parse(url).sentinel_kwargs()
    if sentinel_password:
        options.pop("username", None)
        options["password"] = sentinel_password
    return options


def connect(url: str, sentinel_master: str = "", sentinel_password: str = "") -> Client:
    """A client on `url`; with Sentinel, on whichever server is the master now: after a
    failover its pool asks the sentinels again, so callers reconnect by themselves.
    `sentinel_password` is the sentinels' own (the URL's is the master's)."""
    options: dict[str, Any] = {"socket_timeout": 10, "socket_connect_timeout": 5,
                               "health_check_interval": 30}
    if not url.startswith(SENTINEL_SCHEME):
        return Client.from_url(url, **options)
    parsed = SentinelUrl.parse(url)
    sentinel = Sentinel(list(parsed.hosts),
                        sentinel_kwargs=sentinel_options(url, sentinel_password),
                        socket_timeout=2, socket_connect_timeout=2)
    return sentinel.master_for(sentinel_master, db=parsed.db, username=parsed.username,
                               password=parsed.password, **options)


def check_redis(client: Client, url: str, variable: str = "REDIS_URL") -> None:
    """Redis must answer and must never evict keys (the schedule lives there); behind
    Sentinel, its replicas neither (a failover makes one of them the master).

    A Redis that hides CONFIG (renamed or disabled, as managed services do, or denied by an
    ACL) cannot be checked: that is said in one warning line, never passed over in silence.
    """
    try:
        client.ping()
    except RedisError as exc:
        # The URL without its password: this line goes to terminals and logs.
        shown = re.sub(r"(://[^:/@;\s]*:)[^@;\s]*@", r"\1***@", url)
        raise RedisUnavailable(f"{variable} {shown} does not answer: {exc}") from None
    _check_policy(client, f"Redis at {variable}", variable)
    pool = client.connection_pool
    if isinstance(pool, SentinelConnectionPool):
        for host, port in pool.sentinel_manager.discover_slaves(pool.service_name):
            kwargs = pool.connection_kwargs
            replica = Client(host=host, port=port, username=kwargs.get("username"),
                             password=kwargs.get("password"), socket_timeout=5,
                             socket_connect_timeout=5)
            try:
                _check_policy(replica, f"the replica {host}:{port} behind {variable}", variable)
            except RedisError as exc:
                log.warning("cannot check the replica %s:%s behind %s: %s", host, port,
                            variable, exc)
            finally:
                replica.close()


def _check_policy(client: Client, what: str, variable: str) -> None:
    try:
        policy: Any = client.config_get("maxmemory-policy").get("maxmemory-policy")
    except ResponseError as exc:
        policy, why = None, str(exc)
    else:
        why = "CONFIG GET gave no maxmemory-policy"
    if policy is None:
        log.warning("cannot check that %s never evicts keys (%s); make sure its "
                    "maxmemory-policy is noeviction, or reminders could be silently dropped",
                    what, why)
        return
    if isinstance(policy, bytes):
        policy = policy.decode()
    if policy != "noeviction":
        raise RedisUnavailable(
            f"{what} uses maxmemory-policy {policy}; it must be noeviction "
            "or reminders could be silently dropped (set: CONFIG SET maxmemory-policy noeviction)"
        )
