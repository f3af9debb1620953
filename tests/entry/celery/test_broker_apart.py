"""CELERY_BROKER_URL: a broker Redis apart from the data Redis.

The tasks, and the dispatcher's fast batch hand-off (one LPUSH per batch), go to the broker's
Redis; the data Redis sees none of them, so whoever can write tasks need not reach the data.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
import redis

from reminders.storage import nights
from testing.twilio_api import FakeTwilio
from tests.conftest import make_services, need, private_redis, wait_until
from tests.faults.test_faults import Starter, due_now


@pytest.fixture
def broker_redis() -> Iterator[str]:
    binary = shutil.which("redis-server")
    need(binary is not None, "redis-server is not installed")
    assert binary is not None
    yield from private_redis(binary, "--maxmemory-policy", "noeviction")


def _lpushes(url: str) -> int:
    stats = redis.Redis.from_url(url).info("commandstats")
    return int(stats.get("cmdstat_lpush", {}).get("calls", 0))


def test_tasks_go_to_the_broker_redis_not_the_data_redis(
    twilio_env: dict[str, str], fake_twilio: FakeTwilio, broker_redis: str,
    start_worker: Starter, start_beat: Starter,
) -> None:
    env = {**twilio_env, "DISPATCH_INTERVAL_SECONDS": "1", "CELERY_BROKER_URL": broker_redis}
    svc = make_services(env)
    svc.redis.config_resetstat()
    crowd = due_now(svc, 30)
    start_worker(env, concurrency=2)
    start_beat(env)
    fake_twilio.wait_for_messages(30, timeout=180)
    assert sorted(m.to for m in fake_twilio.messages) == sorted(crowd.phones)
    wait_until(lambda: all(nights.read(svc.redis, sid, crowd.evening).get("sms") == "sent"
                           for sid in crowd.ids), 60, "every evening recorded sent")
    assert _lpushes(broker_redis) >= 1  # the batch hand-off, into the broker's Redis
    assert _lpushes(env["REDIS_URL"]) == 0
    assert svc.redis.exists("celery", "unacked", "unacked_index") == 0


def test_an_evicting_broker_redis_stops_the_worker_at_start(
    twilio_env: dict[str, str], broker_redis: str, tmp_path: object,
) -> None:
    import subprocess
    import sys
    from pathlib import Path

    from tests.conftest import PROJECT_ROOT, child_env

    redis.Redis.from_url(broker_redis).config_set("maxmemory-policy", "allkeys-lru")
    env = {**twilio_env, "CELERY_BROKER_URL": broker_redis}
    celery = str(Path(sys.executable).parent / "celery")
    done = subprocess.run([celery, "-A", "worker", "worker", "--concurrency=1"],
                          cwd=PROJECT_ROOT, env=child_env(env), capture_output=True, text=True,
                          timeout=60)
    assert done.returncode != 0
    assert ("Redis at CELERY_BROKER_URL uses maxmemory-policy allkeys-lru; it must be "
            "noeviction") in done.stdout + done.stderr
