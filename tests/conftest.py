"""Shared fixtures: a private Redis server, the fake Twilio API, settings, real Celery processes.

Nothing of our own is patched: tests configure the service through its environment variables,
exactly as an operator would, and watch what reaches the wire.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import redis

from reminders.settings import PROJECT_ROOT, Settings, load_settings
from reminders.wiring import Services, build
from testing.smtp import FakeSmtp
from testing.twilio_api import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, FakeTwilio
from tests.webhook_client import WebhookClient, answering_here

FROM_NUMBER = "+15005550006"
SUPPORT = "help@example.org"
# One line per fault-injection scenario, shown at the end of every run. With pytest-xdist the
# scenarios run in worker processes: each appends its line to one file that the controller
# names (in the environment the workers inherit) and prints.
FAULT_LINES_VAR = "REMINDERS_FAULT_LINES"


def pytest_configure(config: pytest.Config) -> None:
    if FAULT_LINES_VAR not in os.environ:
        handle, path = tempfile.mkstemp(prefix="reminders-fault-lines-", suffix=".txt")
        os.close(handle)
        os.environ[FAULT_LINES_VAR] = path
        config.add_cleanup(lambda: Path(path).unlink(missing_ok=True))


# Tests that start a Celery worker or beat, a broker server or a browser: `make check` leaves
# them to `make test`. Marked by the fixtures they use (and by `pytest.mark.slow` where a test
# starts such a process itself).
SLOW_FIXTURES = frozenset({"start_worker", "start_beat", "rabbitmq_url", "sentinel_group",
                           "page"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if SLOW_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


def need(present: bool, what: str) -> None:
    """Skip a test whose server or package is missing, on a developer's machine; under CI
    (`CI` set, as .ci/run does) that is a failure, so a missing part never passes unseen."""
    if present:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{what} (CI: a missing part fails the run)", pytrace=False)
    pytest.skip(what, allow_module_level=True)  # also for a whole module's part


def record_fault_line(line: str) -> None:
    # One write of a short line to a file opened for appending: whole lines, whatever order.
    with open(os.environ[FAULT_LINES_VAR], "a", encoding="utf-8") as out:
        out.write(line.replace("\n", " ") + "\n")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    path = Path(os.environ.get(FAULT_LINES_VAR, ""))
    lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
    if lines:
        terminalreporter.section("fault injection")
        for line in sorted(lines):
            terminalreporter.write_line(line)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(predicate: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def run_threads(targets: Sequence[Callable[[], object]], timeout: float = 60.0) -> None:
    """Run each target in its own thread; fail unless every one returned without raising.

    A plain `threading.Thread` that raises only prints a traceback and the test goes on as if
    that thread had done its part; one that hangs is silently abandoned by a bare `join()`.
    """
    errors: list[BaseException] = []
    lock = threading.Lock()

    def guarded(target: Callable[[], object]) -> None:
        try:
            target()
        except BaseException as exc:  # re-raised in the test's own thread, below
            with lock:
                errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(t,), daemon=True) for t in targets]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    alive = sum(thread.is_alive() for thread in threads)
    assert alive == 0, f"{alive} of {len(threads)} threads still running after {timeout}s"
    if errors:
        raise AssertionError(f"{len(errors)} of {len(threads)} threads raised") from errors[0]


@pytest.fixture(scope="session")
def redis_server() -> Iterator[str]:
    """A private redis-server on a free port; REDIS_URL when none is installed."""
    binary = shutil.which("redis-server")
    if binary is None:
        url = os.environ.get("REDIS_URL")
        if not url:
            pytest.exit("redis-server is not installed and REDIS_URL is not set", returncode=3)
        need(not os.environ.get("CI"), "redis-server is not installed")
        yield url
        return
    yield from private_redis(binary, "--maxmemory-policy", "noeviction")


def private_redis(binary: str, *extra: str) -> Iterator[str]:
    """A redis-server of our own on a free port, with `extra` arguments, until the generator
    is closed (use with `yield from` in a fixture)."""
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="reminders-redis-")
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", workdir, *extra],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port)
    try:
        wait_until(lambda: pings(client), 10, "redis-server to start")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        client.close()
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)


def pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


@pytest.fixture
def redis_url(redis_server: str) -> Iterator[str]:
    client = redis.Redis.from_url(redis_server)
    client.flushdb()
    yield redis_server
    client.flushdb()
    client.close()


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilio]:
    with FakeTwilio() as fake:
        yield fake


# Twilio's usual time to answer a message creation over the internet.
PROVIDER_LATENCY = (0.2, 0.5)


class Speed:
    """How a fault scenario's workers run: `small` (a few threads, as the scenario says, an
    instant provider) or `default` (the worker as compose starts it, no -c: SEND_CONCURRENCY
    threads; every creation at the fake takes 0.2-0.5 s)."""

    def __init__(self, name: str, fake: FakeTwilio) -> None:
        self.name = name
        if name == "default":
            fake.set_latency(PROVIDER_LATENCY)

    def concurrency(self, small: int) -> int | None:
        return None if self.name == "default" else small


@pytest.fixture(params=["small", "default"])
def speed(request: pytest.FixtureRequest, fake_twilio: FakeTwilio) -> Speed:
    return Speed(request.param, fake_twilio)


@pytest.fixture
def base_env(redis_url: str, tmp_path: Path) -> dict[str, str]:
    """Environment for the console backends (the embedded default)."""
    return {
        "REDIS_URL": redis_url,
        "OUTBOX_DIR": str(tmp_path / "outbox"),
        "SMS_BACKEND": "console",
        "EMAIL_BACKEND": "console",
    }


@pytest.fixture
def twilio_env(base_env: dict[str, str], fake_twilio: FakeTwilio) -> dict[str, str]:
    """Environment for the Twilio backend, pointed at the local fake API."""
    return {
        **base_env,
        "SMS_BACKEND": "twilio",
        "TWILIO_ACCOUNT_SID": DEFAULT_ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": DEFAULT_AUTH_TOKEN,
        "TWILIO_FROM_NUMBER": FROM_NUMBER,
        "TWILIO_API_URL": fake_twilio.url,
        "TWILIO_TIMEOUT_SECONDS": "2",
        "TWILIO_MPS": "100",
        "SUPPORT_CONTACT": SUPPORT,
        "SECRET_KEY": "test-secret-of-at-least-32-bytes!",
        "PUBLIC_URL": "https://reminders.example.org",
    }


def make_services(env: dict[str, str]) -> Services:
    settings: Settings = load_settings(env)
    return build(settings)


def services_here(env: dict[str, str]) -> Services:
    """Services with no worker listening: a caregiver's alert is sent by the process that
    heard of it (the CLI's way, the fallback of the web app's hand-off)."""
    services = make_services(env)
    services.care_handoff = None
    return services


@pytest.fixture
def web(svc: Services) -> Iterator[WebhookClient]:
    """The signed webhook answering in this process, for the test module's own `svc` (a module
    with a `web` of its own overrides this one)."""
    with answering_here(svc) as client:
        yield client


@pytest.fixture
def console_services(base_env: dict[str, str]) -> Services:
    return make_services(base_env)


@pytest.fixture
def twilio_services(twilio_env: dict[str, str]) -> Services:
    return make_services(twilio_env)


def child_env(env: dict[str, str]) -> dict[str, str]:
    """The machine's environment minus any real provider settings, plus the test's own."""
    merged = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "SMTP_"))}
    merged.update(env)
    return merged


# Commands that run in a process of their own even by default: send-now may hand the evening
# to a worker through Celery, whose app is configured once per process (from the first
# environment it sees); run and web start servers.
PROCESS_COMMANDS = {("send-now",), ("run",), ("web",)}


class Cli:
    """Runs `reminders ...` with a given environment: its exit status, stdout and stderr.

    By default in this process: the command's own `main(argv)` with the environment swapped in
    and its output captured (0.4 s of imports saved per call; a few hundred calls). With
    `process=True` (or REMINDERS_CLI_PROCESS=1 for every call) as `python -m reminders` in a
    separate process, for what only a process shows: log lines on the real stderr and stdout,
    start-up, signals.
    """

    def __init__(self, env: dict[str, str], process: bool = False) -> None:
        self.env = env
        self.process = process or bool(os.environ.get("REMINDERS_CLI_PROCESS"))

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        if self.process or args[:1] in PROCESS_COMMANDS:
            return subprocess.run(
                [sys.executable, "-m", "reminders", *args], cwd=PROJECT_ROOT,
                env=child_env(self.env), capture_output=True, text=True, timeout=60,
            )
        return _in_process([*args], child_env(self.env))


def _in_process(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    from reminders.entry.cli.main import main

    saved_env = dict(os.environ)
    root = logging.getLogger()
    saved_level, saved_handlers = root.level, list(root.handlers)
    saved_filters = {handler: list(handler.filters) for handler in saved_handlers}
    out, err = io.StringIO(), io.StringIO()
    # No handlers: the command's own logging set-up then writes its lines, in its format, where
    # a process's would go (its stderr, captured below).
    root.handlers = []
    os.environ.clear()
    os.environ.update(env)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(argv)
            except SystemExit as exc:  # argparse's --help
                code = exc.code if isinstance(exc.code, int) else 0
    finally:
        os.environ.clear()
        os.environ.update(saved_env)
        root.handlers = saved_handlers
        root.setLevel(saved_level)
        for handler, filters in saved_filters.items():
            handler.filters = filters
    return subprocess.CompletedProcess(["reminders", *argv], code, out.getvalue(),
                                       err.getvalue())


@pytest.fixture
def cli(base_env: dict[str, str]) -> Cli:
    return Cli(base_env)


@pytest.fixture
def twilio_cli(twilio_env: dict[str, str]) -> Cli:
    return Cli(twilio_env)


class CeleryProcess:
    def __init__(self, argv: list[str], env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        full_env = child_env({**env, "PYTHONUNBUFFERED": "1"})
        self._log = log_path.open("wb")
        self.proc = subprocess.Popen(argv, cwd=PROJECT_ROOT, env=full_env, stdout=self._log,
                                     stderr=subprocess.STDOUT, start_new_session=True)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()


@pytest.fixture
def start_worker(tmp_path: Path) -> Iterator[Callable[..., CeleryProcess]]:
    """Start a real `celery -A worker worker` and wait until it is ready."""
    started: list[CeleryProcess] = []

    def start(env: dict[str, str], concurrency: int | None = 2, name: str = "w1"
              ) -> CeleryProcess:
        """`concurrency=None`: no -c, the default pool and size (threads, SEND_CONCURRENCY)."""
        celery = str(Path(sys.executable).parent / "celery")
        size = [] if concurrency is None else [f"--concurrency={concurrency}"]
        proc = CeleryProcess(
            [celery, "-A", "worker", "worker", "--loglevel=INFO", *size,
             f"--hostname={name}@%h", "--without-gossip", "--without-mingle"],
            env, tmp_path / f"worker-{name}.log",
        )
        started.append(proc)
        wait_until(lambda: "ready." in proc.log() or proc.proc.poll() is not None, 60,
                   "the celery worker to be ready")
        assert proc.proc.poll() is None, proc.log()
        return proc

    yield start
    for proc in started:
        proc.stop()


@pytest.fixture
def start_beat(tmp_path: Path) -> Iterator[Callable[..., CeleryProcess]]:
    started: list[CeleryProcess] = []

    def start(env: dict[str, str], name: str = "b1") -> CeleryProcess:
        celery = str(Path(sys.executable).parent / "celery")
        proc = CeleryProcess(
            [celery, "-A", "worker", "beat", "--loglevel=INFO",
             "--schedule", str(tmp_path / f"beat-{name}.db")],
            env, tmp_path / f"beat-{name}.log",
        )
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.stop()


@pytest.fixture
def fake_smtp() -> Iterator[FakeSmtp]:
    """A local SMTP server without TLS or AUTH (test_email.py has the one with both)."""
    server = FakeSmtp().start()
    yield server
    server.stop()


@pytest.fixture
def plain_email_env(twilio_env: dict[str, str], fake_smtp: FakeSmtp) -> dict[str, str]:
    """twilio_env, with email sent to fake_smtp in the clear."""
    return {**twilio_env, "EMAIL_BACKEND": "smtp", "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(fake_smtp.port), "SMTP_STARTTLS": "false",
            "EMAIL_FROM": "reminders@example.org"}
