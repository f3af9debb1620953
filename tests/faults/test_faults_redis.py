"""Fault injection: Redis restarted in the middle of a wave, cleanly or by a crash.

The clean case is `systemctl restart` with `appendfsync always`: nothing is lost. The crash is
what docker-compose.yml runs (`appendfsync everysec`) when the machine under Redis dies: Redis
is killed with SIGKILL and its append-only file is cut back to what it held one second before,
which is what `everysec` promises to have on disk (the page cache that held the rest is gone
with the machine; a kill -9 of the process alone would lose nothing the kernel already had).
Records written in that last second vanish: claims, "sent" records, the broker's queue moves.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import redis

from reminders.app.people.preferences import Enrolment, enrol
from reminders.storage import keys, nights
from testing.twilio_api import FakeTwilio
from tests.conftest import CeleryProcess, Speed, free_port, make_services, pings, wait_until
from tests.faults.test_faults import Crowd, Starter, due_now, fault_env

pytestmark = pytest.mark.faults

# What appendfsync everysec may lose (Redis's documentation: "you may lose 1 second of data").
LOST_SECONDS = 1.0


@dataclass
class AofRedis:
    """A redis-server with AOF on its own port and data directory, restartable in place."""

    workdir: Path
    fsync: str
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    # (monotonic time, size of the AOF being appended to), sampled while Redis runs
    sizes: list[tuple[float, int]] = field(default_factory=list)
    _sampling: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        argv = [shutil.which("redis-server") or "redis-server", "--port", str(self.port),
                "--bind", "127.0.0.1", "--dir", str(self.workdir), "--appendonly", "yes",
                "--appendfsync", self.fsync, "--save", "", "--maxmemory-policy", "noeviction",
                # No rewrite mid-test: the file being appended to stays the one sampled.
                "--auto-aof-rewrite-percentage", "0"]
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
        client = redis.Redis(port=self.port)
        wait_until(lambda: pings(client), 20, "redis to start")
        self._sampling.clear()
        threading.Thread(target=self._sample, daemon=True).start()

    def _incr_file(self) -> Path:
        """The file Redis appends to (multi-part AOF, Redis 7): the newest incr file."""
        found = (self.workdir / "appendonlydir").glob("*.incr.aof")
        return max(found, key=lambda path: path.stat().st_mtime_ns)

    def _sample(self) -> None:
        path = self._incr_file()
        while not self._sampling.wait(0.02):
            self.sizes.append((time.monotonic(), path.stat().st_size))

    def restart_cleanly(self) -> None:
        """SIGTERM (Redis flushes and exits), a moment away, then start again."""
        assert self.proc is not None
        self._sampling.set()
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(20)
        time.sleep(2)  # the service sees Redis gone for a moment
        self.start()

    def crash(self) -> int:
        """SIGKILL, lose the last LOST_SECONDS of the AOF, start again; the bytes lost."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        self.proc.wait(20)
        self._sampling.set()
        path = self._incr_file()
        on_disk = max((size for at, size in self.sizes if at <= killed - LOST_SECONDS),
                      default=0)
        lost = path.stat().st_size - on_disk
        with path.open("r+b") as aof:
            aof.truncate(on_disk)
        time.sleep(2)  # the machine comes back
        self.start()
        return lost

    def stop(self) -> None:
        self._sampling.set()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


@pytest.fixture
def aof_redis(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[AofRedis]:
    server = AofRedis(tmp_path / "aof-redis", request.param)
    server.workdir.mkdir()
    server.start()
    yield server
    server.stop()


def _supervisor(env: dict[str, str], workers: list[CeleryProcess], beats: list[CeleryProcess],
                start_worker: Starter, start_beat: Starter, speed: Speed) -> Callable[[], None]:
    """Like docker compose's `restart: unless-stopped`: Celery/kombu can die on a lost broker
    connection ("Unrecoverable error"), and the platform starts it again."""

    def tick() -> None:
        if workers[-1].proc.poll() is not None:
            workers.append(start_worker(env, concurrency=speed.concurrency(2),
                                        name=f"w{len(workers) + 1}"))
        if beats[-1].proc.poll() is not None:
            beats.append(start_beat(env, name=f"b{len(beats) + 1}"))

    return tick


def _wave(twilio_env: dict[str, str], server: AofRedis, start_worker: Starter,
          start_beat: Starter, fake: FakeTwilio, speed: Speed,
          ) -> tuple[Crowd, dict[str, str], Callable[[], None], list[CeleryProcess]]:
    env = fault_env(twilio_env, REDIS_URL=server.url, TWILIO_MPS="40")
    crowd = due_now(make_services(env), 300)
    workers, beats = [start_worker(env, concurrency=speed.concurrency(2))], [start_beat(env)]
    wait_until(lambda: len(fake.messages) >= 60, 60, "the first 60 texts")
    return (crowd, env, _supervisor(env, workers, beats, start_worker, start_beat, speed),
            workers)


def _recovered_lookups(workers: list[CeleryProcess]) -> int:
    return sum(worker.log().count("send recovered") for worker in workers)


@pytest.mark.parametrize("aof_redis", ["always"], indirect=True)
def test_redis_restarted_mid_run(twilio_env: dict[str, str], fake_twilio: FakeTwilio,
                                 aof_redis: AofRedis, start_worker: Starter,
                                 start_beat: Starter, speed: Speed) -> None:
    crowd, _, tick, workers = _wave(twilio_env, aof_redis, start_worker, start_beat,
                                    fake_twilio, speed)
    before = {sid: crowd.svc.redis.hgetall(keys.subscriber(sid)) for sid in crowd.ids}
    stopped_at = datetime.now(UTC)
    aof_redis.restart_cleanly()
    recovered, watched = crowd.watch(fake_twilio, stopped_at, timeout=240, tick=tick)
    per_phone = crowd.summary(f"redis-restart-clean-fsync-always/{speed.name}", fake_twilio,
                              recovered, watched,
                              f"recovered_lookups={_recovered_lookups(workers)}", within=120)
    assert set(per_phone.values()) == {1} and sorted(per_phone) == sorted(crowd.phones)
    after = {sid: crowd.svc.redis.hgetall(keys.subscriber(sid)) for sid in crowd.ids}
    assert after == before  # no preference lost


@pytest.mark.parametrize("aof_redis", ["everysec"], indirect=True)
def test_redis_crash_losing_its_last_second(twilio_env: dict[str, str], fake_twilio: FakeTwilio,
                                            aof_redis: AofRedis, start_worker: Starter,
                                            start_beat: Starter, speed: Speed) -> None:
    crowd, _, tick, workers = _wave(twilio_env, aof_redis, start_worker, start_beat,
                                    fake_twilio, speed)
    sent_before = len(fake_twilio.messages)
    crashed_at = datetime.now(UTC)
    lost = aof_redis.crash()
    assert lost > 0  # the scenario really lost writes (claims and records of the last second)
    recovered, watched = crowd.watch(fake_twilio, crashed_at, timeout=240, tick=tick)
    per_phone = crowd.summary(
        f"redis-crash-fsync-everysec/{speed.name}", fake_twilio, recovered, watched,
        f"lost_last={LOST_SECONDS:.0f}s({lost}B of AOF) sent_before_crash={sent_before} "
        f"recovered_lookups={_recovered_lookups(workers)}", within=120)
    assert set(per_phone.values()) == {1} and sorted(per_phone) == sorted(crowd.phones)


@pytest.mark.parametrize("aof_redis", ["everysec"], indirect=True)
def test_a_record_lost_with_a_restart_is_looked_up_not_resent(
    twilio_env: dict[str, str], fake_twilio: FakeTwilio, aof_redis: AofRedis,
) -> None:
    # This Redis has just started: for tonight's evening (due this minute) it is a Redis that
    # restarted while the evening's attempts were being made.
    crowd = due_now(make_services({**twilio_env, "REDIS_URL": aof_redis.url}), 1)
    svc, [sid], [phone] = crowd.svc, crowd.ids, crowd.phones
    now = datetime.now(UTC)
    assert svc.sender.deliver(sid, crowd.evening, now).channels == {"sms": "sent"}
    [message] = fake_twilio.messages
    # What the crash takes: the claim and the "sent" record of the last second.
    svc.redis.delete(keys.night(sid, crowd.evening), keys.message_index(message.sid))
    assert svc.sender.deliver(sid, crowd.evening, now).channels == {"sms": "sent"}
    assert fake_twilio.messages_to(phone) == [message]  # found at the provider, not resent
    night = nights.read(svc.redis, sid, crowd.evening)
    assert (night["sms"], night["sms_id"]) == ("sent", message.sid)


@pytest.mark.parametrize("aof_redis", ["everysec"], indirect=True)
def test_evenings_after_the_restart_are_not_looked_up(
    twilio_env: dict[str, str], fake_twilio: FakeTwilio, aof_redis: AofRedis,
) -> None:
    svc = make_services({**twilio_env, "REDIS_URL": aof_redis.url})
    sub = enrol(svc.store, svc.settings, Enrolment(phone="+13125550142", timezone="UTC",
                                                    time="20:00", confirmed=True))
    evening = date(2099, 1, 9)  # due long after this Redis started
    due = datetime(2099, 1, 9, 20, 0, tzinfo=UTC)
    assert svc.sender.deliver(sub.id, evening, due).channels == {"sms": "sent"}
    assert [r.method for r in fake_twilio.requests_log] == ["POST"]  # no lookup first
