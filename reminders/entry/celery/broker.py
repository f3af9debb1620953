"""The Redis broker transport, made to set aside queue entries it cannot read.

kombu's Redis transport pops an entry from the queue list with BRPOP and parses it as a message
envelope on the spot (`Channel._brpop_read`). An entry that is not one (anything LPUSHed by hand
or by a broken client: not UTF-8, not JSON, JSON of another shape, a body that is not base64)
raises there, outside any handler of Celery's, and the worker stops with "Unrecoverable error";
restarted, it pops the next entry, and the bad one is gone without a trace. Celery's own
`Consumer.on_decode_error` only covers a well-formed envelope whose body does not decode.

So the client kombu BRPOPs with is ours: before kombu sees a popped entry, it checks that it is
an envelope kombu and Celery can handle (what kombu's Redis transport writes), and otherwise
keeps it in a capped list for an operator (storage/broker_rejects.py), counts it in the metrics,
logs one line and answers "nothing arrived". The worker carries on with the next entry.

`install()` puts this transport behind the `redis://`, `rediss://` and `sentinel://` broker URLs
(kombu's alias table), so the URL is read exactly as before, TLS included. The rejected entries
and the counter are written to the broker's Redis (CELERY_BROKER_URL, by default the data Redis).
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from typing import Any

import redis
from kombu.transport import TRANSPORT_ALIASES, _transport_cache  # type: ignore[attr-defined]
from kombu.transport import redis as kombu_redis
from kombu.utils.json import loads as kombu_loads

from reminders.storage import broker_rejects

log = logging.getLogger(__name__)

_POPPING = ("BRPOP", "RPOP")  # the commands kombu's channel takes messages with


def envelope_problem(entry: bytes) -> str | None:
    """Why kombu's Redis transport could not deliver `entry` (None: it can)."""
    try:
        payload = kombu_loads(entry.decode("utf-8"))  # exactly what kombu does with it
    except (ValueError, TypeError, KeyError):  # UnicodeDecodeError and JSONDecodeError too
        return "not JSON"
    if not isinstance(payload, dict):
        return "not a message envelope"
    properties = payload.get("properties")
    if not isinstance(properties, dict) or not isinstance(
            properties.get("delivery_tag"), str | int):
        return "no delivery tag"
    delivery = properties.get("delivery_info")
    if not isinstance(delivery, dict) or not all(
            isinstance(delivery.get(name), str) for name in ("exchange", "routing_key")):
        return "no delivery info"
    if not isinstance(payload.get("headers", {}), dict | None):
        return "headers are not a mapping"
    return _body_problem(payload.get("body"), properties.get("body_encoding"),
                         payload.get("content-type"))


def _body_problem(body: Any, encoding: Any, content_type: Any) -> str | None:
    if not isinstance(body, str):
        return "no body"
    if encoding not in (None, "utf-8", "base64"):
        return "unknown body encoding"
    try:
        raw = base64.b64decode(body, validate=True) if encoding == "base64" else body.encode()
    except (binascii.Error, ValueError):
        return "body is not base64"
    # Celery accepts JSON only (accept_content); anything else it would refuse anyway.
    if content_type != "application/json":
        return "not a JSON message"
    try:
        json.loads(raw)
    except ValueError:
        return "body is not JSON"
    return None


class CheckingRedis(redis.Redis):
    """The client kombu's channel pops messages with: unreadable entries never reach kombu."""

    def parse_response(self, connection: Any, command_name: str | bytes, **options: Any
                       ) -> Any:
        response = super().parse_response(connection, command_name, **options)
        if command_name not in _POPPING or not response:
            return response
        entry = response[1] if command_name == "BRPOP" else response
        problem = envelope_problem(entry if isinstance(entry, bytes) else str(entry).encode())
        if problem is None:
            return response
        self._set_aside(entry, problem)
        return None  # kombu reads this as "nothing arrived" and pops again

    def _set_aside(self, entry: bytes | str, problem: str) -> None:
        log.warning("broker rejected entry reason=%s size=%d kept_in=%s", problem.replace(" ", "-"),
                    len(entry), broker_rejects.where())
        # A client of its own: this one's connection is the BRPOP connection kombu manages.
        broker_rejects.set_aside(redis.Redis(connection_pool=self.connection_pool), entry)


class Channel(kombu_redis.Channel):
    def _get_client(self) -> Any:
        base = super()._get_client()  # type: ignore[misc]
        # With a global key prefix kombu uses a client of its own: leave it be (we set none).
        return CheckingRedis if base is redis.Redis else base


class Transport(kombu_redis.Transport):
    Channel = Channel


class SentinelChannel(kombu_redis.SentinelChannel):
    """kombu's Sentinel channel (its pool follows the master through a failover), popping with
    the same checking client."""

    def _get_client(self) -> Any:
        base = super()._get_client()  # type: ignore[misc]
        return CheckingRedis if base is redis.Redis else base


class SentinelTransport(kombu_redis.SentinelTransport):
    Channel = SentinelChannel


def install() -> None:
    """Serve redis://, rediss:// and sentinel:// broker URLs with these transports (before any
    connection)."""
    for scheme, transport in (("redis", "Transport"), ("rediss", "Transport"),
                              ("sentinel", "SentinelTransport")):
        TRANSPORT_ALIASES[scheme] = f"{__name__}:{transport}"
        _transport_cache.pop(scheme, None)
