"""A private RabbitMQ for the tests that run with RabbitMQ as the broker.

`rabbitmq-server` on free ports (AMQP and Erlang distribution), with its own node name, data,
log and plugin files under a temporary directory; the machine's epmd is shared (it only maps
node names to ports). Started as root, the server drops to the `rabbitmq` user, which must own
that directory. Without the binary (or root), the broker on 127.0.0.1:5672 is used when it
answers (guest/guest, its default vhost); otherwise the test is skipped, saying why.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import free_port, need, wait_until

SHARED = "amqp://guest:guest@127.0.0.1:5672//"


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def private_rabbitmq() -> Iterator[str]:
    """A rabbitmq-server of our own until the generator is closed; else the shared one."""
    binary = shutil.which("rabbitmq-server")
    if binary is None or os.geteuid() != 0:
        if _answers(5672):
            yield SHARED
            return
        need(False, "no rabbitmq-server to start (not installed, or not root: `make test` as "
                    "root installs it) and none answers on 127.0.0.1:5672")
    base = Path(tempfile.mkdtemp(prefix="reminders-rabbit-"))
    port, node = free_port(), f"reminders{secrets.token_hex(4)}@localhost"
    (base / "rabbitmq.conf").write_text(
        f"listeners.tcp.default = 127.0.0.1:{port}\nloopback_users = none\n")
    (base / "enabled_plugins").write_text("[].\n")
    for sub in ("mnesia", "log"):
        (base / sub).mkdir()
    shutil.chown(base, "rabbitmq", "rabbitmq")
    for path in base.iterdir():
        shutil.chown(path, "rabbitmq", "rabbitmq")
    env = {**os.environ, "RABBITMQ_NODENAME": node,
           "RABBITMQ_CONFIG_FILE": str(base / "rabbitmq.conf"),
           "RABBITMQ_DIST_PORT": str(free_port()),
           "RABBITMQ_MNESIA_BASE": str(base / "mnesia"),
           "RABBITMQ_LOG_BASE": str(base / "log"),
           "RABBITMQ_ENABLED_PLUGINS_FILE": str(base / "enabled_plugins"),
           "RABBITMQ_FEATURE_FLAGS_FILE": str(base / "feature_flags"),
           "RABBITMQ_PLUGINS_EXPAND_DIR": str(base / "plugins-expand"),
           "RABBITMQ_PID_FILE": str(base / "pid")}
    log = (base / "out.log").open("wb")
    proc = subprocess.Popen([binary], env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        wait_until(lambda: _answers(port) or proc.poll() is not None, 90,
                   "rabbitmq-server to listen")
        assert proc.poll() is None, (base / "out.log").read_text()[-2000:]
        yield f"amqp://guest:guest@127.0.0.1:{port}//"
    finally:
        pid_file = base / "pid"
        if pid_file.is_file() and pid_file.read_text().strip().isdigit():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid_file.read_text().strip()), signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        log.close()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def rabbitmq_url() -> Iterator[str]:
    yield from private_rabbitmq()
