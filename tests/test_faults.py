"""Fault injection: exactly one text per person per evening, whatever breaks.

Real Celery workers and beats, a real Redis, the fake Twilio API over HTTP. Each scenario
prints one summary line: subscribers, messages sent, duplicates, misses.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import redis

from reminders.app.preferences import Enrolment, enrol
from reminders.domain.schedule import send_instant
from reminders.entry.cli.runner import demo_zone
from reminders.storage import keys, nights
from reminders.wiring import Services
from testing.twilio_api import FakeTwilio
from tests.conftest import FAULT_SUMMARY, CeleryProcess, free_port, make_services, wait_until

pytestmark = pytest.mark.faults

Starter = Callable[..., CeleryProcess]


@dataclass
class Crowd:
    svc: Services
    ids: list[str]
    phones: list[str]
    evening: date

    def summary(self, scenario: str, fake: FakeTwilio) -> Counter[str]:
        per_phone = Counter(m.to for m in fake.messages)
        duplicates = sum(n - 1 for n in per_phone.values() if n > 1)
        missed = sum(1 for sid in self.ids
                     if nights.read(self.svc.redis, sid, self.evening).get("sms") == "missed")
        line = (f"scenario={scenario} subscribers={len(self.ids)} "
                f"messages_sent={len(fake.messages)} duplicates={duplicates} misses={missed}")
        print("\n" + line)
        FAULT_SUMMARY.append(line)  # printed after the run by conftest's terminal summary
        return per_phone


def due_now(svc: Services, count: int) -> Crowd:
    """`count` confirmed subscribers whose evening time is this very minute."""
    now = datetime.now(UTC)
    zone, local = demo_zone(now)
    tz = ZoneInfo(zone)
    evening = now.astimezone(tz).date()
    instant = send_instant(evening, local, tz)
    ids, phones = [], []
    for n in range(count):
        phone = f"+1312555{n:04d}"
        sub = enrol(svc.store, svc.settings, Enrolment(
            phone=phone, timezone=zone, time=local.strftime("%H:%M"), confirmed=True))
        ids.append(sub.id)
        phones.append(phone)
    # Enrolled a few seconds after their time: put them back at tonight's instant, as if they
    # had been enrolled yesterday (the schedule a long-running service would hold right now).
    svc.redis.zadd(keys.DUE, {sid: instant.timestamp() for sid in ids})
    return Crowd(svc, ids, phones, evening)


def fault_env(twilio_env: dict[str, str], **extra: str) -> dict[str, str]:
    return {**twilio_env, "DISPATCH_INTERVAL_SECONDS": "1", "TWILIO_MPS": "200",
            "BROKER_VISIBILITY_TIMEOUT": "20", **extra}


def kill9(proc: CeleryProcess) -> None:
    """kill -9 the worker and its pool children, as a crash or OOM kill would."""
    os.killpg(proc.proc.pid, signal.SIGKILL)
    proc.proc.wait(10)


def test_kill9_worker_mid_run_then_restart(twilio_env: dict[str, str], fake_twilio: FakeTwilio,
                                           start_worker: Starter, start_beat: Starter) -> None:
    env = fault_env(twilio_env, TWILIO_MPS="60")
    crowd = due_now(make_services(env), 500)
    worker = start_worker(env, concurrency=2, name="w1")
    start_beat(env)
    wait_until(lambda: len(fake_twilio.messages) >= 120, 60, "the first 120 texts")
    kill9(worker)
    sent_at_kill = len(fake_twilio.messages)
    start_worker(env, concurrency=2, name="w2")
    wait_until(lambda: len(set(m.to for m in fake_twilio.messages)) >= 500, 180,
               "every subscriber's text")
    time.sleep(3)
    per_phone = crowd.summary("kill9-worker", fake_twilio)
    assert sent_at_kill < 500
    assert sorted(per_phone) == sorted(crowd.phones)
    assert set(per_phone.values()) == {1}


def test_two_beats_and_two_workers(twilio_env: dict[str, str], fake_twilio: FakeTwilio,
                                   start_worker: Starter, start_beat: Starter) -> None:
    env = fault_env(twilio_env)
    crowd = due_now(make_services(env), 500)
    start_worker(env, concurrency=2, name="w1")
    start_worker(env, concurrency=2, name="w2")
    start_beat(env, name="b1")
    start_beat(env, name="b2")
    wait_until(lambda: len(fake_twilio.messages) >= 500, 120, "every subscriber's text")
    time.sleep(4)
    per_phone = crowd.summary("two-beats-two-workers", fake_twilio)
    assert set(per_phone.values()) == {1} and len(per_phone) == 500


def test_provider_429_500_and_hangs(twilio_env: dict[str, str], fake_twilio: FakeTwilio,
                                    start_worker: Starter, start_beat: Starter) -> None:
    env = fault_env(twilio_env)
    crowd = due_now(make_services(env), 200)
    fake_twilio.fail_next(15, http_status=429, retry_after=1)
    fake_twilio.fail_next(15, http_status=500)
    fake_twilio.fail_next(5, http_status=503)
    fake_twilio.hang_next(4, seconds=3.0, then_accept=True)  # past the 2 s client timeout
    fake_twilio.hang_next(4, seconds=3.0, then_accept=False)
    start_worker(env, concurrency=4)
    start_beat(env)
    wait_until(lambda: len(set(m.to for m in fake_twilio.messages)) >= 200, 180,
               "every subscriber's text")
    time.sleep(5)
    per_phone = crowd.summary("provider-429-500-hang", fake_twilio)
    assert set(per_phone.values()) == {1} and len(per_phone) == 200
    # Every injected fault was really hit: 200 accepted + 35 refused + 4 hung and dropped.
    assert len(fake_twilio.message_attempts()) >= 200 + 35 + 4


def test_provider_down_past_the_late_limit(twilio_env: dict[str, str], fake_twilio: FakeTwilio,
                                           start_worker: Starter, start_beat: Starter) -> None:
    env = fault_env(twilio_env, LATE_LIMIT_MINUTES="1")
    svc = make_services(env)
    crowd = due_now(svc, 50)
    fake_twilio.set_down(True)
    start_worker(env, concurrency=2)
    start_beat(env)
    wait_until(lambda: all(nights.read(svc.redis, sid, crowd.evening).get("sms") == "missed"
                           for sid in crowd.ids), 150, "every evening to be recorded missed")
    fake_twilio.set_down(False)
    time.sleep(8)  # the provider is back: nothing is sent late
    crowd.summary("provider-down-past-late-limit", fake_twilio)
    assert fake_twilio.messages == []
    assert all(svc.store.next_due(sid) is not None for sid in crowd.ids)


@pytest.fixture
def aof_redis(tmp_path: Path) -> Iterator[Callable[[], None]]:
    """A Redis with AOF on its own port; yields a function that restarts it (same data dir)."""
    port, workdir = free_port(), tmp_path / "aof-redis"
    workdir.mkdir()
    argv = [shutil.which("redis-server") or "redis-server", "--port", str(port), "--bind",
            "127.0.0.1", "--dir", str(workdir), "--appendonly", "yes", "--appendfsync",
            "always", "--save", "", "--maxmemory-policy", "noeviction"]
    state: dict[str, subprocess.Popen[bytes]] = {}

    def start() -> None:
        state["proc"] = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
        client = redis.Redis(port=port)
        wait_until(lambda: _pings(client), 10, "redis to start")

    def restart() -> None:
        state["proc"].send_signal(signal.SIGTERM)  # a clean shutdown, as `systemctl restart`
        state["proc"].wait(20)
        time.sleep(2)  # the service sees Redis gone for a moment
        start()

    start()
    restart.url = f"redis://127.0.0.1:{port}/0"  # type: ignore[attr-defined]
    yield restart
    state["proc"].terminate()
    state["proc"].wait(10)


def _pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


def test_redis_restarted_mid_run(twilio_env: dict[str, str], fake_twilio: FakeTwilio,
                                 aof_redis: Callable[[], None], start_worker: Starter,
                                 start_beat: Starter) -> None:
    env = fault_env(twilio_env, REDIS_URL=aof_redis.url, TWILIO_MPS="40")  # type: ignore[attr-defined]
    svc = make_services(env)
    crowd = due_now(svc, 300)
    before = {sid: svc.redis.hgetall(keys.subscriber(sid)) for sid in crowd.ids}
    workers = [start_worker(env, concurrency=2)]
    beats = [start_beat(env)]
    wait_until(lambda: len(fake_twilio.messages) >= 60, 60, "the first 60 texts")
    aof_redis()

    def supervised_progress() -> bool:
        # Like docker compose's `restart: unless-stopped`: Celery/kombu can die on a lost
        # broker connection ("Unrecoverable error"), and the platform starts it again.
        if workers[-1].proc.poll() is not None:
            workers.append(start_worker(env, concurrency=2, name=f"w{len(workers) + 1}"))
        if beats[-1].proc.poll() is not None:
            beats.append(start_beat(env, name=f"b{len(beats) + 1}"))
        return len(set(m.to for m in fake_twilio.messages)) >= 300

    wait_until(supervised_progress, 240, "every subscriber's text after the restart")
    time.sleep(4)
    per_phone = crowd.summary("redis-restart", fake_twilio)
    assert set(per_phone.values()) == {1} and len(per_phone) == 300
    after = {sid: svc.redis.hgetall(keys.subscriber(sid)) for sid in crowd.ids}
    assert after == before  # no preference lost
