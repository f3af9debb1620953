"""Shared plumbing: result rows, the run context, processes in their own groups, /proc readings."""

from __future__ import annotations

import contextlib
import cProfile
import io
import os
import pstats
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis

from reminders.settings import PROJECT_ROOT
from testing.twilio_api import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN

BIN = Path(sys.executable).parent
FROM_NUMBER = "+15005550006"
PUBLIC_URL = "http://127.0.0.1:8000"
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


@dataclass
class Row:
    benchmark: str
    figure: str
    goal: str
    comparison: str
    verdict: str  # pass | FAIL | info | skipped
    how: str


@dataclass
class Context:
    redis_url: str
    redis_pid: int
    workdir: Path
    deadline: float  # time.monotonic() by which the whole run must be over
    notes: list[tuple[str, str]] = field(default_factory=list)  # (title, preformatted text)
    shared: dict[str, object] = field(default_factory=dict)

    def client(self, db: int = 0) -> redis.Redis:
        base = self.redis_url.rsplit("/", 1)[0]
        return redis.Redis.from_url(f"{base}/{db}", socket_timeout=120)

    def left(self) -> float:
        return self.deadline - time.monotonic()

    def env(self, **extra: str) -> dict[str, str]:
        """The service's environment for a run (the brief's list), plus overrides."""
        env = {
            "SMS_BACKEND": "twilio",
            "TWILIO_ACCOUNT_SID": DEFAULT_ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": DEFAULT_AUTH_TOKEN,
            "TWILIO_FROM_NUMBER": FROM_NUMBER,
            "TWILIO_MESSAGING_SERVICE_SID": "",
            "TWILIO_API_URL": "http://127.0.0.1:9",  # replaced by the fake's URL where it runs
            "TWILIO_MPS": "10000",
            "SUPPORT_CONTACT": "x",
            "SECRET_KEY": "x" * 32,
            "PUBLIC_URL": PUBLIC_URL,
            "EMAIL_BACKEND": "console",
            "OUTBOX_DIR": str(self.workdir / "outbox"),
            "REDIS_URL": self.redis_url,
            "DISPATCH_INTERVAL_SECONDS": "1",
            "BROKER_VISIBILITY_TIMEOUT": "300",
            "SMTP_HOST": "",
        }
        env.update(extra)
        return env

    def note(self, title: str, text: str) -> None:
        self.notes.append((title, text))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(predicate: Callable[[], object], timeout: float, what: str,
               interval: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")


def pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


# -- processes ---------------------------------------------------------------------------------

_RUNNING: list[Group] = []


class Group:
    """A subprocess started in its own session, so it and all its children stop together."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str] | None, log: Path,
                 cwd: Path = PROJECT_ROOT) -> None:
        self.name = name
        self.log_path = log
        full_env = None
        if env is not None:
            full_env = {k: v for k, v in os.environ.items()
                        if not k.startswith(("TWILIO_", "SMTP_"))}
            full_env.update(env)
            full_env["PYTHONUNBUFFERED"] = "1"
        self._log = log.open("wb")
        self.proc = subprocess.Popen(argv, cwd=cwd, env=full_env, stdout=self._log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        _RUNNING.append(self)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout: float = 20.0) -> None:
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.pid, signal.SIGKILL)
                self.proc.wait(10)
        # Pool children may outlive a parent that was killed: take the whole group down.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)
        self._log.close()
        if self in _RUNNING:
            _RUNNING.remove(self)

    def pids(self) -> list[int]:
        return group_pids(self.pid)


def running() -> int:
    """A mark for stop_all: how many processes are running now."""
    return len(_RUNNING)


def stop_all(keep: int = 0) -> None:
    """Stop every process started after mark `keep` (all of them by default), newest first."""
    for group in reversed(list(_RUNNING[keep:])):
        with contextlib.suppress(Exception):
            group.stop(timeout=10)


def _stat_fields(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rindex(")") + 2:].split()  # fields from the third (state) on


def group_pids(pgid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat_fields(int(entry))
            if fields is not None and int(fields[2]) == pgid:
                found.append(int(entry))
    return sorted(found)


def cpu_seconds(pids: list[int]) -> float:
    """utime + stime of these live processes (fields 14 and 15 of /proc/<pid>/stat)."""
    total = 0
    for pid in pids:
        fields = _stat_fields(pid)
        if fields is not None:
            total += int(fields[11]) + int(fields[12])
    return total / CLK_TCK


def rss_bytes(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        fields = _stat_fields(pid)
        if fields is not None:
            total += int(fields[21]) * PAGE_SIZE
    return total


# -- the private Redis -------------------------------------------------------------------------


@contextlib.contextmanager
def private_redis(workdir: Path) -> Iterator[tuple[str, int]]:
    """redis-server on a free port, no persistence, noeviction; stopped on exit."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("bench: redis-server is not installed (apt-get install redis-server)")
    port = free_port()
    data = Path(tempfile.mkdtemp(prefix="redis-", dir=workdir))
    group = Group("redis", [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                            "--appendonly", "no", "--maxmemory-policy", "noeviction",
                            "--dir", str(data)], None, workdir / "redis.log")
    client = redis.Redis(port=port)
    try:
        wait_until(lambda: pings(client), 15, "redis-server to start")
        yield f"redis://127.0.0.1:{port}/0", group.pid
    finally:
        client.close()
        group.stop()


def redis_version() -> str:
    out = subprocess.run(["redis-server", "--version"], capture_output=True, text=True,
                         timeout=10).stdout
    for part in out.split():
        if part.startswith("v="):
            return part[2:]
    return out.strip()


def profile_text(profiler: cProfile.Profile, title: str, limit: int = 12) -> str:
    """The top of a cProfile, tottime order, without pstats' preamble."""
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(limit)
    lines = [line.rstrip() for line in out.getvalue().splitlines() if line.strip()]
    start = next((i for i, line in enumerate(lines) if "ncalls" in line), 0)
    text = "\n".join(lines[start:])
    for prefix in (f"{PROJECT_ROOT}/", *sorted({p + "/" for p in sys.path if p}, key=len,
                                               reverse=True)):
        text = text.replace(prefix, "")
    return title + "\n" + text


def machine_busy() -> tuple[float, float]:
    """(busy CPU seconds of the whole machine since boot, of which steal) from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return (user + nice + system + irq + softirq + steal) / CLK_TCK, steal / CLK_TCK


def own_cpu() -> float:
    """CPU seconds of this process, the children it has waited for, and those still running."""
    t = os.times()
    live = sum(cpu_seconds(group.pids()) for group in list(_RUNNING))
    return t.user + t.system + t.children_user + t.children_system + live


class Contention:
    """How much of the machine other processes took between start and share()."""

    def __init__(self) -> None:
        self.wall, self.busy, self.own = time.monotonic(), machine_busy()[0], own_cpu()

    def share(self) -> float:
        others = (machine_busy()[0] - self.busy) - (own_cpu() - self.own)
        cores = len(os.sched_getaffinity(0))
        return max(others, 0.0) / max(time.monotonic() - self.wall, 1e-9) / cores


def count_round_trips(client: redis.Redis) -> list[int]:
    """From now on, count the connections `client` checks out of its pool: one per command or
    pipeline sent (a WATCH/MULTI transaction holds one across its few round trips)."""
    counter = [0]
    pool = client.connection_pool
    original = pool.get_connection

    def counting(*args: Any, **kwargs: Any) -> Any:
        counter[0] += 1
        return original(*args, **kwargs)

    pool.get_connection = counting  # type: ignore[method-assign]
    return counter


def fmt_rate(value: float) -> str:
    return f"{value:,.0f}/s"


def fmt_ms(seconds: float) -> str:
    return f"{seconds * 1000:,.2f} ms" if seconds < 0.1 else f"{seconds * 1000:,.0f} ms"


def verdict(ok: bool) -> str:
    return "pass" if ok else "FAIL"
