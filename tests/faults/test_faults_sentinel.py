"""Fault injection: Sentinel failover in the middle of a wave.

Real servers on loopback, started here: one primary, one replica, three sentinels
(`redis-server --sentinel`, down-after 1 s). 300 people are due; once the first texts are out,
a few people text STOP or MASSAGE OFF through the web app, and the moment their answers are back
the primary is killed with SIGKILL. Sentinel promotes the replica; workers, beat and web find
the new master through the sentinels by themselves (docker compose's restart policy stands in
for the platform, as in test_faults_redis.py). Replication is asynchronous: what survives is
what the writes waited for (storage/replicas.py).
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis
import requests

from reminders.app.people.preferences import Enrolment, enrol
from reminders.entry.cli.runner import demo_zone
from reminders.storage import keys
from testing.twilio_api import DEFAULT_AUTH_TOKEN, FakeTwilio
from tests.conftest import (
    PROJECT_ROOT,
    Cli,
    Speed,
    child_env,
    free_port,
    make_services,
    pings,
    record_fault_line,
    wait_until,
)
from tests.faults.test_faults import Starter, due_now, fault_env
from tests.faults.test_faults_redis import _supervisor
from tests.webhook_client import WebhookClient, serve

pytestmark = pytest.mark.faults

MASTER = "reminders"


@dataclass
class SentinelGroup:
    """A primary, its replica and three sentinels watching them, each on a free port."""

    workdir: Path
    primary: int = field(default_factory=free_port)
    replica: int = field(default_factory=free_port)
    sentinels: list[int] = field(default_factory=lambda: [free_port() for _ in range(3)])
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return ";".join(f"sentinel://127.0.0.1:{port}" for port in self.sentinels) + "/0"

    def _server(self, name: str, *argv: str) -> None:
        binary = shutil.which("redis-server") or "redis-server"
        (self.workdir / name).mkdir()
        log = (self.workdir / f"{name}.log").open("wb")
        self.procs[name] = subprocess.Popen([binary, *argv], cwd=self.workdir / name,
                                            stdout=log, stderr=subprocess.STDOUT)

    def start(self) -> None:
        data = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--maxmemory-policy", "noeviction"]
        self._server("primary", "--port", str(self.primary), *data)
        wait_until(lambda: pings(redis.Redis(port=self.primary)), 20, "the primary")
        self._server("replica", "--port", str(self.replica), *data,
                     "--replicaof", "127.0.0.1", str(self.primary))
        wait_until(lambda: self._info(self.replica, "replication").get("master_link_status")
                   == "up", 30, "the replica to sync")
        for n, port in enumerate(self.sentinels):
            conf = self.workdir / f"sentinel{n}.conf"
            conf.write_text(
                f"port {port}\nbind 127.0.0.1\ndir {self.workdir}\n"
                f"sentinel monitor {MASTER} 127.0.0.1 {self.primary} 2\n"
                f"sentinel down-after-milliseconds {MASTER} 1000\n"
                f"sentinel failover-timeout {MASTER} 10000\n"
                f"sentinel parallel-syncs {MASTER} 1\n")
            self._server(f"sentinel{n}", str(conf), "--sentinel")
        # Each sentinel must know the replica and the two others (hello messages every 2 s)
        # before a failover can be agreed on.
        wait_until(lambda: all(self._knows_all(port) for port in self.sentinels), 60,
                   "the sentinels to know the replica and each other")

    @staticmethod
    def _info(port: int, section: str) -> dict[str, object]:
        try:
            return dict(redis.Redis(port=port).info(section))
        except redis.RedisError:
            return {}

    @staticmethod
    def _knows_all(port: int) -> bool:
        try:
            client = redis.Redis(port=port, decode_responses=True)
            [state] = [m for m in client.sentinel_masters().values() if m["name"] == MASTER]
        except (redis.RedisError, ValueError):
            return False
        return bool(state["num-slaves"] == 1 and state["num-other-sentinels"] == 2)

    def master_port(self) -> int | None:
        try:
            found = redis.Redis(port=self.sentinels[0]).sentinel_get_master_addr_by_name(
                MASTER)
        except redis.RedisError:
            return None
        return int(found[1]) if found else None

    def kill_primary(self) -> None:
        proc = self.procs["primary"]
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
                proc.wait(10)


@pytest.fixture
def sentinel_group(tmp_path: Path) -> Iterator[SentinelGroup]:
    group = SentinelGroup(tmp_path / "sentinel")
    group.workdir.mkdir()
    try:
        group.start()
        yield group
    finally:
        group.stop()


def _healthy(base: str) -> bool:
    try:
        return requests.get(base + "/healthz", timeout=5).status_code == 200
    except requests.RequestException:
        return False


@pytest.mark.parametrize("lag", [0.0, 1.5])
def test_sentinel_failover_mid_wave(twilio_env: dict[str, str], fake_twilio: FakeTwilio,
                                    sentinel_group: SentinelGroup, start_worker: Starter,
                                    start_beat: Starter, lag: float) -> None:
    """`lag`: the replica is stopped (SIGSTOP) that long before the primary dies, so the last
    writes really are missing on it, as when replication falls behind: without the waits the
    claims made meanwhile would be lost and their texts sent again."""
    env = fault_env(twilio_env, REDIS_URL=sentinel_group.url, REDIS_SENTINEL_MASTER=MASTER,
                    TWILIO_MPS="40")
    crowd = due_now(make_services(env), 300)
    # Twenty more people, due on another evening: ten text STOP, ten MASSAGE OFF, just before the
    # primary dies.
    zone, local = demo_zone(datetime.now(UTC))
    others = [enrol(crowd.svc.store, crowd.svc.settings, Enrolment(
        phone=f"+1415555{n:04d}", timezone=zone, confirmed=True,
        time="16:30" if local.hour >= 19 else "20:30")) for n in range(20)]
    # The worker as compose starts it (SEND_CONCURRENCY threads), Twilio taking 0.2-0.5 s.
    speed = Speed("default", fake_twilio)
    workers, beats = [start_worker(env, concurrency=speed.concurrency(2))], [start_beat(env)]
    tick = _supervisor(env, workers, beats, start_worker, start_beat, speed)
    web_svc = make_services(env)
    with serve(web_svc) as base:
        webhook = WebhookClient(base, web_svc.settings.public_url, DEFAULT_AUTH_TOKEN)
        assert _healthy(base)
        wait_until(lambda: len(fake_twilio.messages) >= 60, 60, "the first 60 texts")
        for n, sub in enumerate(others):
            assert sub.phone is not None
            answer = webhook.text(sub.phone, "STOP" if n < 10 else "MASSAGE OFF")
            assert answer.status_code == 200, answer.text
        if lag:
            sentinel_group.procs["replica"].send_signal(signal.SIGSTOP)
            time.sleep(lag)
        sent_before = len(fake_twilio.messages)
        waits = redis.Redis(port=sentinel_group.primary).info("commandstats")["cmdstat_wait"]
        sentinel_group.kill_primary()
        killed_at, killed = datetime.now(UTC), time.monotonic()
        sentinel_group.procs["replica"].send_signal(signal.SIGCONT)
        wait_until(lambda: sentinel_group.master_port() == sentinel_group.replica, 60,
                   "the replica to be promoted")
        promoted = time.monotonic() - killed
        wait_until(lambda: _healthy(base), 60, "the web app's /healthz to answer 200 again")
        web_back = time.monotonic() - killed
        recovered, watched = crowd.watch(fake_twilio, killed_at, timeout=240, tick=tick)
        assert _healthy(base)
    unconfirmed = sum(w.log().count("write not replicated") for w in workers)
    per_phone = crowd.summary(
        "sentinel-failover-kill9-primary" + (f"-replica-stopped-{lag:.1f}s" if lag else "")
        + "/default",
        fake_twilio, recovered, watched,
        f"sent_before_kill={sent_before} waits_before_kill={waits['calls']} "
        f"unconfirmed_writes={unconfirmed} "
        f"promoted_in={promoted:.1f}s "
        f"web_healthz_back_in={web_back:.1f}s restarted_workers={len(workers) - 1} "
        f"restarted_beats={len(beats) - 1}", within=120)
    assert set(per_phone.values()) == {1} and sorted(per_phone) == sorted(crowd.phones)
    # Nothing the people said just before the crash is lost on the promoted replica.
    after = make_services(env)
    stopped = [after.store.get(sub.id) for sub in others[:10]]
    massage = [after.store.get(sub.id) for sub in others[10:]]
    lost = (sum(1 for sub in stopped if sub is None or sub.sms_status != "opted_out")
            + sum(1 for sub in massage if sub is None or sub.massage_ok))
    line = (f"scenario=sentinel-failover-writes lag={lag:.1f}s opt_outs=10 preferences=10 "
            f"lost={lost} "
            f"(answered before the kill, read back from the promoted replica)")
    print("\n" + line)
    record_fault_line(line)
    assert lost == 0
    assert not any(m.to in {sub.phone for sub in others} for m in fake_twilio.messages)


def test_every_entry_point_follows_sentinel_and_refuses_an_evicting_replica(
        base_env: dict[str, str], sentinel_group: SentinelGroup) -> None:
    env = {**base_env, "REDIS_URL": sentinel_group.url, "REDIS_SENTINEL_MASTER": MASTER}
    # make run's detection: the sentinels name a master that answers, so the URL is kept.
    found = subprocess.run([str(PROJECT_ROOT / "scripts" / "ensure_redis.sh")],
                           env=child_env(env), capture_output=True, text=True, timeout=60)
    assert (found.returncode, found.stdout.strip()) == (0, sentinel_group.url), found.stderr
    cli = Cli(env)
    done = cli("subscribe", "+13125550142", "--timezone", "UTC", "--time", "20:00",
               "--confirmed")
    assert done.returncode == 0, done.stderr
    # Written through the sentinels' master, and replicated (the enrolment waited for it).
    replica = redis.Redis(port=sentinel_group.replica)
    assert replica.hlen(keys.phone_index("+13125550142").key) == 1
    # A replica that would evict the schedule once promoted is refused at start.
    replica.config_set("maxmemory-policy", "allkeys-lru")
    refused = cli("list")
    assert refused.returncode == 1
    assert refused.stderr.strip().splitlines()[-1] == (
        f"error: Redis is not reachable (the replica 127.0.0.1:{sentinel_group.replica} behind "
        "REDIS_URL uses maxmemory-policy allkeys-lru; it must be noeviction or reminders could "
        "be silently dropped (set: CONFIG SET maxmemory-policy noeviction)); is REDIS_URL right?")
