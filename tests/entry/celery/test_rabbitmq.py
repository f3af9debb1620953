"""RabbitMQ as the broker (CELERY_BROKER_URL=amqp://...), the data staying in Redis.

A real rabbitmq-server of the test's own (tests/rabbit.py), a real beat and worker: the nightly
send goes end to end, the dispatcher's batches are published over one AMQP producer (no queue
in the data Redis), and the kill -9 scenario of test_faults.py holds: RabbitMQ hands a dead
worker's unacknowledged tasks back as soon as its connection drops.
"""

from __future__ import annotations

import pytest

from reminders.storage import nights
from testing.twilio_api import FakeTwilio
from tests.conftest import FROM_NUMBER, Speed, make_services, wait_until
from tests.faults.test_faults import Starter, due_now, fault_env, kill9_scenario
from tests.rabbit import rabbitmq_url as rabbitmq_url  # the fixture


def test_nightly_send_with_rabbitmq_as_the_broker(
    twilio_env: dict[str, str], fake_twilio: FakeTwilio, rabbitmq_url: str,
    start_worker: Starter, start_beat: Starter,
) -> None:
    env = {**twilio_env, "DISPATCH_INTERVAL_SECONDS": "1", "CELERY_BROKER_URL": rabbitmq_url}
    svc = make_services(env)
    crowd = due_now(svc, 40)
    start_worker(env, concurrency=2)
    start_beat(env)
    fake_twilio.wait_for_messages(len(crowd.phones), timeout=180)
    by_phone = {m.to: m for m in fake_twilio.messages}
    assert sorted(by_phone) == sorted(crowd.phones) and len(fake_twilio.messages) == 40
    # The record follows Twilio's answer by a moment.
    wait_until(lambda: all(nights.read(svc.redis, sid, crowd.evening).get("sms") == "sent"
                           for sid in crowd.ids), 60, "every evening recorded sent")
    for sid, phone in zip(crowd.ids, crowd.phones, strict=True):
        sub = svc.store.get(sid)
        assert sub is not None
        expected = svc.renderer.sms(sub, svc.renderer.select(sub, crowd.evening)).body
        message = by_phone[phone]
        assert (message.from_, message.body) == (FROM_NUMBER, expected)
        night = nights.read(svc.redis, sid, crowd.evening)
        assert (night["sms"], night["sms_id"]) == ("sent", message.sid)
    # The tasks went through RabbitMQ: kombu's Redis queue and its bookkeeping never appeared
    # in the data Redis.
    assert svc.redis.exists("celery", "unacked", "unacked_index") == 0


@pytest.mark.faults
def test_kill9_worker_mid_send_with_rabbitmq(
    twilio_env: dict[str, str], fake_twilio: FakeTwilio, rabbitmq_url: str,
    start_worker: Starter, start_beat: Starter,
) -> None:
    env = fault_env(twilio_env, TWILIO_MPS="60", CELERY_BROKER_URL=rabbitmq_url)
    kill9_scenario(env, fake_twilio, start_worker, start_beat,
                   "kill9-worker-mid-send-rabbitmq/default", Speed("default", fake_twilio))
