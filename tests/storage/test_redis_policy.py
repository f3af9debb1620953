"""Every entry point checks Redis's eviction policy, and says so when it cannot.

Two more real redis-servers: one that may evict keys (allkeys-lru), which every entry point must
refuse before writing anything, and one with CONFIG renamed away (as managed Redis services do),
where every entry point says once that it could not check, then runs.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from reminders.entry.web.app import create_app
from reminders.settings import PROJECT_ROOT
from reminders.storage.client import RedisUnavailable
from tests.conftest import (
    CeleryProcess,
    Cli,
    child_env,
    free_port,
    make_services,
    need,
    private_redis,
    wait_until,
)

PHONE = "+13125550142"
WARNING = "cannot check that Redis at REDIS_URL never evicts keys"


def _server(*extra: str) -> Iterator[str]:
    binary = shutil.which("redis-server")
    need(binary is not None, "needs redis-server")
    assert binary is not None
    yield from private_redis(binary, *extra)


@pytest.fixture(scope="module")
def evicting_url() -> Iterator[str]:
    yield from _server("--maxmemory-policy", "allkeys-lru")


@pytest.fixture(scope="module")
def hidden_config_url() -> Iterator[str]:
    yield from _server("--maxmemory-policy", "noeviction", "--rename-command", "CONFIG", "")


@pytest.fixture
def evicting(base_env: dict[str, str], evicting_url: str) -> Iterator[dict[str, str]]:
    redis.Redis.from_url(evicting_url).flushdb()
    yield {**base_env, "REDIS_URL": evicting_url}


@pytest.fixture
def hidden(base_env: dict[str, str], hidden_config_url: str) -> Iterator[dict[str, str]]:
    redis.Redis.from_url(hidden_config_url).flushdb()
    yield {**base_env, "REDIS_URL": hidden_config_url}


def _keys(env: dict[str, str]) -> list[bytes]:
    return list(redis.Redis.from_url(env["REDIS_URL"]).scan_iter())


@pytest.mark.parametrize("argv", [["subscribe", PHONE, "--confirmed"], ["show", PHONE],
                                  ["list"], ["forget", PHONE], ["reply", PHONE, "JOIN"],
                                  ["stats"], ["set", PHONE, "time=21:00"]])
def test_every_command_refuses_an_evicting_redis_before_writing(
        evicting: dict[str, str], argv: list[str]) -> None:
    result = Cli(evicting)(*argv)
    assert result.returncode == 1, result
    [line] = result.stderr.strip().splitlines()
    assert "noeviction" in line and "allkeys-lru" in line and "Traceback" not in line
    assert _keys(evicting) == []


def test_the_web_command_refuses_an_evicting_redis(evicting: dict[str, str]) -> None:
    argv = [sys.executable, "-m", "reminders", "web", "--port", str(free_port())]
    try:
        result = subprocess.run(argv, env=child_env(evicting), cwd=PROJECT_ROOT,
                                capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired:
        pytest.fail("`reminders web` started serving against an evicting Redis")
    assert result.returncode == 1 and "noeviction" in result.stderr


def test_the_app_factory_refuses_an_evicting_redis(evicting: dict[str, str]) -> None:
    with pytest.raises(RedisUnavailable, match="allkeys-lru"):
        create_app(make_services(evicting))


def _celery(kind: str, env: dict[str, str], tmp_path: Path) -> CeleryProcess:
    celery = str(Path(sys.executable).parent / "celery")
    argv = [celery, "-A", "worker", kind, "--loglevel=INFO"]
    if kind == "worker":
        argv += ["--concurrency=1", "--without-gossip", "--without-mingle", "--pool=solo"]
    else:
        argv += ["--schedule", str(tmp_path / "beat-schedule")]
    return CeleryProcess(argv, env, tmp_path / f"{kind}.log")


@pytest.mark.parametrize("kind", ["worker", "beat"])
@pytest.mark.slow
def test_worker_and_beat_refuse_an_evicting_redis(evicting: dict[str, str], tmp_path: Path,
                                                  kind: str) -> None:
    proc = _celery(kind, evicting, tmp_path)
    try:
        wait_until(lambda: proc.proc.poll() is not None, 60, f"celery {kind} to give up")
        assert proc.proc.returncode != 0
        assert "noeviction" in proc.log() and "allkeys-lru" in proc.log()
        assert "ready." not in proc.log()
    finally:
        proc.stop()


def test_commands_say_once_when_config_is_hidden(hidden: dict[str, str]) -> None:
    cli = Cli(hidden)
    enrolled = cli("subscribe", PHONE, "--confirmed")
    assert enrolled.returncode == 0, enrolled.stderr
    [line] = enrolled.stderr.strip().splitlines()
    assert WARNING in line and "noeviction" in line and "WARNING" in line
    listed = cli("list")
    assert listed.returncode == 0 and listed.stderr.count(WARNING) == 1
    assert PHONE in listed.stdout


@pytest.mark.parametrize("kind", ["worker", "beat"])
@pytest.mark.slow
def test_worker_and_beat_say_once_when_config_is_hidden(hidden: dict[str, str], tmp_path: Path,
                                                        kind: str) -> None:
    proc = _celery(kind, hidden, tmp_path)
    try:
        started = "ready." if kind == "worker" else "beat: Starting..."
        wait_until(lambda: started in proc.log() or proc.proc.poll() is not None, 60,
                   f"celery {kind} to start")
        wait_until(lambda: WARNING in proc.log(), 10, "the warning")
        assert proc.proc.poll() is None, proc.log()
        assert proc.log().count(WARNING) == 1
    finally:
        proc.stop()


@pytest.mark.slow
def test_the_web_command_says_once_when_config_is_hidden(hidden: dict[str, str],
                                                         tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "web.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "reminders", "web", "--port", str(port)],
                                env=child_env(hidden), cwd=PROJECT_ROOT, stdout=out,
                                stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: "Running on" in log.read_text() or proc.poll() is not None, 30,
                   "the web app to start")
        assert proc.poll() is None, log.read_text()
        assert log.read_text().count(WARNING) == 1
    finally:
        proc.terminate()
        proc.wait(10)
