"""Publishing a dispatcher batch of send_reminder tasks in one broker command.

`Task.apply_async` costs about 0.3 ms of CPU per task (routing, signals, argument reprs, an
exchange copy per message) plus a round trip, which capped the dispatcher near 3 000 hand-offs a
second. Here Celery builds the protocol-2 message itself (`app.amqp.as_task_v2`) once, with
slots for what differs between tasks, wrapped in the Redis transport's envelope (what kombu's
Redis channel LPUSHes: body base64, headers, properties with delivery info and tag); each task
fills the slots (ids, arguments) and a whole batch goes out with one LPUSH. The worker cannot
tell the difference: tests run every reminder through a real worker this way. The dispatcher's
hand-off puts several evenings in one `send_batch` task (per_task), so that Celery's own cost
per task is shared by them.

The LPUSH goes to the broker's Redis (CELERY_BROKER_URL, a Sentinel master included), which
need not be the data Redis. It builds on Celery's and kombu's internals as they are in the
pinned versions (BUILT_FOR); with any other version, or a broker that is not Redis (RabbitMQ),
`publisher_for` falls back to `send_task` per task over one producer, one connection and one
channel for the whole batch (slower, always correct; with another version it says so once).
"""

from __future__ import annotations

import base64
import json
import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from importlib.metadata import version
from typing import Any

from celery import Celery
from celery.utils.nodenames import anon_nodename

from reminders.storage.client import Client

log = logging.getLogger(__name__)

# The versions whose message and envelope layout this module reproduces (pyproject.toml pins).
BUILT_FOR = {"celery": "5.7.0", "kombu": "5.7.0"}

_SLOTS = ("\x00id\x00", "\x00tag\x00", "\x00repr\x00", "\x00body\x00")


# At most this many evenings in one send_batch task: Celery's own cost per task (receive, ack,
# trace: about 1.5 ms of CPU, more than the send itself) is shared by them, while enough tasks
# are left to keep every sender thread busy (see per_task).
MAX_PER_TASK = 10

Templates = tuple[str, str]  # the envelope and the body, with slots


def per_task(evenings: int, senders: int) -> int:
    """Evenings per send_batch task: as many as share `senders` threads evenly, 1 to 10.

    A batch's evenings go out one after the other in one thread, so a batch only as large as
    the hand-off divided by a worker's threads keeps all of them working."""
    return max(1, min(MAX_PER_TASK, evenings // max(1, senders)))


class BatchPublisher:
    """`enqueue` collects tasks; `grouped()` pushes what it collected when it exits cleanly.

    With `batch_task`, evenings go out several to a task (`batch_task([[id, date], ...])`,
    see per_task); without, one `task_name(id, date)` each.
    """

    def __init__(self, app: Celery, client: Client, task_name: str,
                 batch_task: str | None = None, senders: int = 1) -> None:
        self.client = client
        self.queue: str = app.conf.task_default_queue
        self.senders = senders
        self._pending: list[tuple[str, str]] = []
        self._single = self._templates(app, task_name)
        self._batch = self._templates(app, batch_task) if batch_task else None

    def enqueue(self, subscriber_id: str, local_date: date) -> None:
        self._pending.append((subscriber_id, local_date.isoformat()))

    @contextmanager
    def grouped(self) -> Iterator[None]:
        self._pending = []
        try:
            yield
            if self._pending:
                # LPUSH keeps the order: the worker pops from the other end, earliest due first.
                self.client.lpush(self.queue, *self.messages(self._pending))
        finally:
            self._pending = []

    def messages(self, evenings: list[tuple[str, str]]) -> list[str]:
        if self._batch is None:
            return [self.envelope(evening, self._single) for evening in evenings]
        size = per_task(len(evenings), self.senders)
        return [self.envelope(([list(e) for e in evenings[i:i + size]],), self._batch)
                for i in range(0, len(evenings), size)]

    def envelope(self, args: tuple[Any, ...], templates: Templates) -> str:
        """One task as kombu's Redis transport stores it in the queue list."""
        envelope, body = templates
        body = body.replace(_SLOTS[0], json.dumps(list(args)), 1)
        return (envelope
                .replace(_SLOTS[0], str(uuid.uuid4()))  # id, root_id and correlation_id
                .replace(_SLOTS[1], str(uuid.uuid4()), 1)
                .replace(_SLOTS[2], json.dumps(repr(args))[1:-1], 1)
                .replace(_SLOTS[3], base64.b64encode(body.encode()).decode(), 1))

    def _templates(self, app: Celery, task_name: str) -> Templates:
        """The message Celery builds for this task, with slots where one task differs from the
        next. Built once; filling the slots is a few string replacements per task."""
        message: Any = app.amqp.as_task_v2(
            _SLOTS[0], task_name, args=(), kwargs={}, ignore_result=True,
            argsrepr=_SLOTS[2], kwargsrepr="{}", origin=anon_nodename(),
            reply_to=app.thread_oid,
        )
        properties = dict(message.properties)
        properties.update(
            delivery_mode=2,
            delivery_info={"exchange": "", "routing_key": self.queue},
            priority=0,
            body_encoding="base64",
            delivery_tag=_SLOTS[1],
        )
        envelope = json.dumps({
            "body": _SLOTS[3],
            "content-encoding": "utf-8",
            "content-type": "application/json",
            "headers": message.headers,
            "properties": properties,
        })
        args, kwargs, embed = message.body
        body = json.dumps([args, kwargs, embed]).replace("[]", _SLOTS[0], 1)
        # json.dumps writes the NUL of a slot as \u0000: put the raw slot back.
        escaped = [json.dumps(slot)[1:-1] for slot in _SLOTS]
        for raw, esc in zip(_SLOTS, escaped, strict=True):
            envelope = envelope.replace(esc, raw)
        if any(envelope.count(slot) != n for slot, n in zip(_SLOTS, (3, 1, 1, 1), strict=True)):
            raise RuntimeError(f"unexpected task message layout from Celery: {envelope}")
        return envelope, body


class ApplyAsyncPublisher:
    """The same interface, one send_task per task, all of a batch on one producer (its
    connection and channel acquired once): for RabbitMQ, and versions this module was not built
    for."""

    def __init__(self, app: Celery, task_name: str) -> None:
        self.app, self.task_name = app, task_name
        self._pending: list[tuple[str, str]] = []

    def enqueue(self, subscriber_id: str, local_date: date) -> None:
        self._pending.append((subscriber_id, local_date.isoformat()))

    @contextmanager
    def grouped(self) -> Iterator[None]:
        self._pending = []
        yield
        if self._pending:
            with self.app.producer_or_acquire() as producer:
                for args in self._pending:
                    self.app.send_task(self.task_name, args=args, producer=producer)
        self._pending = []


def installed() -> dict[str, str]:
    return {name: version(name) for name in BUILT_FOR}


def versions_match() -> bool:
    return installed() == BUILT_FOR


def publisher_for(app: Celery, client: Client | None, task_name: str,
                  batch_task: str | None = None, senders: int = 1,
                  ) -> BatchPublisher | ApplyAsyncPublisher:
    """The fast batch publisher where it is known to be right (evenings several to a
    `batch_task`, when given), else apply_async of `task_name`, one per evening."""
    if client is not None and versions_match():
        return BatchPublisher(app, client, task_name, batch_task, senders)
    if client is not None:
        _warn_once(app)
    return ApplyAsyncPublisher(app, task_name)


_warned: list[bool] = []


def _warn_once(app: Celery) -> None:
    if not _warned:
        _warned.append(True)
        log.warning("dispatch hand-off uses apply_async (one broker round trip per task): "
                    "installed %s or broker %s differ from what the batch publisher was built "
                    "for (%s, redis)", installed(), str(app.conf.broker_url).split("://")[0],
                    BUILT_FOR)
