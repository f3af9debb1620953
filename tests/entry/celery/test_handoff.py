"""The dispatcher's batch publisher writes the messages Celery would, and a worker runs them."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
import redis
from celery import Celery

from reminders.app.people.preferences import Enrolment, enrol
from reminders.entry.celery.app import send_batch, send_reminder
from reminders.entry.celery.handoff import ApplyAsyncPublisher, BatchPublisher, per_task
from reminders.entry.cli.runner import demo_zone
from testing.twilio_api import FakeTwilio
from tests.conftest import CeleryProcess, make_services

DAY = date(2027, 1, 15)
VARYING_HEADERS = {"id", "root_id"}
VARYING_PROPERTIES = {"correlation_id", "delivery_tag"}


@pytest.fixture
def app(redis_url: str) -> Iterator[Celery]:
    """A Celery app like ours (same task name) publishing to the test Redis."""
    celery = Celery("handoff-test", broker=redis_url)
    yield celery
    celery.close()


def test_a_published_task_is_the_message_apply_async_writes(
    app: Celery, redis_client: redis.Redis,
) -> None:
    app.send_task(send_reminder.name, args=("sub-1", DAY.isoformat()), ignore_result=True)
    reference = json.loads(redis_client.rpop("celery"))
    publisher = BatchPublisher(app, redis_client, send_reminder.name)
    with publisher.grouped():
        publisher.enqueue("sub-1", DAY)
    ours = json.loads(redis_client.rpop("celery"))

    assert ours["body"] == reference["body"]  # the same arguments, encoded the same way
    assert {k: v for k, v in ours.items() if k not in ("headers", "properties")} == \
        {k: v for k, v in reference.items() if k not in ("headers", "properties")}
    assert ours["headers"].keys() == reference["headers"].keys()
    for name in ours["headers"].keys() - VARYING_HEADERS - {"origin"}:
        assert ours["headers"][name] == reference["headers"][name], name
    assert ours["properties"].keys() == reference["properties"].keys()
    for name in ours["properties"].keys() - VARYING_PROPERTIES - {"reply_to"}:
        assert ours["properties"][name] == reference["properties"][name], name
    headers, properties = ours["headers"], ours["properties"]
    assert headers["id"] == headers["root_id"] == properties["correlation_id"]
    assert headers["argsrepr"] == "('sub-1', '2027-01-15')"


def test_every_task_gets_its_own_ids_and_the_batch_keeps_its_order(
    app: Celery, redis_client: redis.Redis,
) -> None:
    publisher = BatchPublisher(app, redis_client, send_reminder.name)
    names = [f"sub-{n}" for n in range(300)] + ['quote"and\\back', "émile"]
    with publisher.grouped():
        for name in names:
            publisher.enqueue(name, DAY)
    popped = [json.loads(raw) for raw in iter(lambda: redis_client.rpop("celery"), None)]
    args = [json.loads(base64.b64decode(m["body"]))[0] for m in popped]
    assert args == [[name, DAY.isoformat()] for name in names]  # first enqueued, first run
    assert len({m["headers"]["id"] for m in popped}) == len(names)
    assert len({m["properties"]["delivery_tag"] for m in popped}) == len(names)


def test_the_dispatchers_hand_off_puts_several_evenings_in_one_task(
    app: Celery, redis_client: redis.Redis,
) -> None:
    publisher = BatchPublisher(app, redis_client, send_reminder.name, send_batch.name,
                               senders=4)
    with publisher.grouped():
        for n in range(45):
            publisher.enqueue(f"sub-{n}", DAY)
    popped = [json.loads(raw) for raw in iter(lambda: redis_client.rpop("celery"), None)]
    assert {m["headers"]["task"] for m in popped} == {"reminders.send_batch"}
    batches = [json.loads(base64.b64decode(m["body"]))[0][0] for m in popped]
    assert [len(batch) for batch in batches] == [10, 10, 10, 10, 5]  # 45 // 4 senders, at most 10
    # Every evening once, in the order handed over, each still keyed (subscriber, local date).
    assert [e for batch in batches for e in batch] == [[f"sub-{n}", DAY.isoformat()]
                                                       for n in range(45)]


def test_a_batch_is_no_larger_than_keeps_every_sender_thread_busy() -> None:
    assert per_task(3_000, 100) == 10
    assert per_task(500, 100) == 5
    assert per_task(150, 100) == 1
    assert per_task(1, 4) == 1


def test_a_batch_that_fails_publishes_nothing(app: Celery, redis_client: redis.Redis) -> None:
    publisher = BatchPublisher(app, redis_client, send_reminder.name)
    with pytest.raises(RuntimeError), publisher.grouped():
        publisher.enqueue("sub-1", DAY)
        raise RuntimeError("the dispatcher failed half-way")
    assert redis_client.llen("celery") == 0
    with publisher.grouped():  # and the next batch does not carry the aborted one
        publisher.enqueue("sub-2", DAY)
    assert redis_client.llen("celery") == 1


@pytest.mark.parametrize("kind", ["batch", "send_batch", "apply_async fallback"])
def test_a_real_worker_sends_what_the_publisher_handed_over(
    twilio_env: dict[str, str], fake_twilio: FakeTwilio, redis_client: redis.Redis,
    start_worker: Callable[..., CeleryProcess], kind: str,
) -> None:
    svc = make_services(twilio_env)
    now = datetime.now(UTC)
    zone, local = demo_zone(now)
    phones = ["+13125550142", "+13125550143", "+13125550144"]
    subs = [enrol(svc.store, svc.settings, Enrolment(
        phone=p, timezone=zone, time=local.strftime("%H:%M"), confirmed=True)) for p in phones]
    local_date = now.astimezone(ZoneInfo(zone)).date()
    app = Celery("handoff-test", broker=twilio_env["REDIS_URL"])
    publisher: BatchPublisher | ApplyAsyncPublisher = (
        BatchPublisher(app, redis_client, send_reminder.name) if kind == "batch"
        # the dispatcher's hand-off: the three evenings in one send_batch task
        else BatchPublisher(app, redis_client, send_reminder.name, send_batch.name)
        if kind == "send_batch"
        # what other Celery/kombu versions (or brokers) get: the worker cannot tell either
        else ApplyAsyncPublisher(app, send_reminder.name))
    with publisher.grouped():
        for sub in subs:
            publisher.enqueue(sub.id, local_date)
    start_worker(twilio_env)
    messages = fake_twilio.wait_for_messages(3, timeout=60)
    assert sorted(m.to for m in messages) == phones
    for sub in subs:
        expected = svc.renderer.sms(sub, svc.renderer.select(sub, local_date)).body
        [message] = [m for m in messages if m.to == sub.phone]
        assert message.body == expected
