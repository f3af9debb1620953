"""The Celery app (entry/celery/app.py) does not trust its broker: an entry that is not a task
message is set aside (storage/broker_rejects.py) and the worker goes on, with a real worker."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import redis
from celery import Celery

from reminders.storage import keys
from testing.twilio_api import FakeTwilio
from tests.conftest import CeleryProcess, make_services, wait_until
from tests.faults.test_faults import due_now

Starter = Callable[..., CeleryProcess]


def fast_env(twilio_env: dict[str, str], **extra: str) -> dict[str, str]:
    return {**twilio_env, "DISPATCH_INTERVAL_SECONDS": "1", "TWILIO_MPS": "200", **extra}


def metric(client: redis.Redis, name: str) -> int:
    return int(client.hget(keys.METRICS, name) or 0)


@pytest.mark.parametrize("garbage", [b"not json {", b"[1, 2, 3]", b'{"body": 1}',
                                     b"\xff\xfe\x00binary"])
def test_garbage_in_the_broker_queue_does_not_stop_the_worker(
    garbage: bytes, twilio_env: dict[str, str], fake_twilio: FakeTwilio,
    start_worker: Starter,
) -> None:
    env = fast_env(twilio_env)
    svc = make_services(env)
    crowd = due_now(svc, 1)
    worker = start_worker(env, concurrency=1)
    svc.redis.lpush("celery", garbage)
    wait_until(lambda: svc.redis.llen("celery") == 0, 30, "the worker to take the entry")
    Celery(broker=env["REDIS_URL"]).send_task("reminders.send_reminder",
                                              args=[crowd.ids[0], crowd.evening.isoformat()])
    [message] = fake_twilio.wait_for_messages(1, timeout=30)
    assert message.to == crowd.phones[0]
    assert worker.proc.poll() is None  # the same worker, still running
    assert metric(svc.redis, "rejected:broker") == 1
    [kept] = svc.redis.lrange(keys.BROKER_REJECTED, 0, -1)  # kept for a look, not lost
    assert kept == garbage
