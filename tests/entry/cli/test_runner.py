"""`reminders run`: web + worker + beat in one process group; crashes are restarted."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from reminders.settings import PROJECT_ROOT
from tests.conftest import child_env, free_port, wait_until

pytestmark = pytest.mark.slow


def children_of(pid: int) -> dict[int, str]:
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found[int(stat.parent.name)] = cmdline
    return found


def test_run_starts_everything_restarts_a_crash_and_stops_on_ctrl_c(
    base_env: dict[str, str], tmp_path: Path
) -> None:
    port = free_port()
    log = (tmp_path / "run.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "reminders", "run", "--port", str(port)],
                            cwd=PROJECT_ROOT, env=child_env(base_env), stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_until(lambda: _healthy(port), 60, "the web app")
        wait_until(lambda: "reminders run: ready" in (tmp_path / "run.log").read_text(), 60,
                   "web, worker and beat")
        output = (tmp_path / "run.log").read_text()
        assert "Demo subscriber +12025550100" in output
        [worker] = [pid for pid, cmd in children_of(proc.pid).items() if "worker worker" in cmd]
        os.kill(worker, signal.SIGKILL)
        wait_until(lambda: "worker exited" in (tmp_path / "run.log").read_text(), 20,
                   "the restart notice")
        wait_until(lambda: any("worker worker" in cmd and pid != worker
                               for pid, cmd in children_of(proc.pid).items()), 20,
                   "a new worker")
        proc.send_signal(signal.SIGINT)
        assert proc.wait(30) == 0
        time.sleep(0.5)
        assert children_of(proc.pid) == {}
    finally:
        # Whatever happened, leave no web, worker or beat behind (they share its group).
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


def _healthy(port: int) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).json() == {
            "redis": "ok"}
    except requests.RequestException:
        return False
