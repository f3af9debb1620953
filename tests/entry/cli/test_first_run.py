"""A newcomer's first run: `reminders run` on a taken port, what it prints, and the Redis that
`make run` chose being found by every other `reminders` command (STATE_DIR/redis.url)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from reminders.settings import PROJECT_ROOT
from tests.conftest import child_env, free_port, wait_until

PHONE = "+13125550142"
TAKEN_LINE = re.compile(r"^error: port (\d+) is already in use by another program; choose "
                        r"another: make run PORT=8080 \(or reminders run --port 8080\)$")


@contextlib.contextmanager
def listening() -> Iterator[int]:
    """A port some other program listens on (on every address, as `python -m http.server`)."""
    with socket.socket() as other:
        other.bind(("0.0.0.0", 0))
        other.listen()
        yield int(other.getsockname()[1])


def reminders(env: dict[str, str], *args: str, cwd: Path = PROJECT_ROOT,
              timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "reminders", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("command", ["run", "web"])
def test_a_taken_port_is_one_clear_line_and_exit_2_with_nothing_started(
        base_env: dict[str, str], tmp_path: Path, command: str) -> None:
    env = child_env({**base_env, "STATE_DIR": str(tmp_path / "state")})
    with listening() as port:
        started = time.monotonic()
        done = reminders(env, command, "--port", str(port), timeout=30)
        took = time.monotonic() - started
    assert done.returncode == 2, done
    [line] = done.stderr.splitlines()
    found = TAKEN_LINE.match(line)
    assert found and int(found[1]) == port, line
    assert done.stdout == ""
    assert took < 15  # refused at once: no start, crash and restart rounds
    assert not (tmp_path / "state").exists()  # nothing was started or written
    # and no demo subscriber was enrolled
    assert reminders(env, "list", "--json").stdout.strip() == "[]"


def test_show_prints_a_table_a_person_can_read(base_env: dict[str, str]) -> None:
    env = child_env(base_env)
    assert reminders(env, "subscribe", "(312) 555-0142", "--name", "Ana Lima", "--time",
                     "8:15pm", "--confirmed").returncode == 0
    assert reminders(env, "send-now", PHONE).returncode == 0
    shown = reminders(env, "show", PHONE)
    assert shown.returncode == 0, shown.stderr
    rows = {line.split("  ")[0]: line.split("  ", 1)[1].strip()
            for line in shown.stdout.splitlines() if line.strip()}
    facts = json.loads(reminders(env, "show", PHONE, "--json").stdout)
    next_utc = facts["next_send_utc"]  # e.g. 2026-12-08T03:15:00Z
    assert rows["name"] == "Ana Lima"
    assert rows["phone"] == PHONE
    assert rows["evening time"] == "20:15"
    assert rows["time zone"] == "America/Chicago"
    assert rows["sms status"] == "active" and rows["email status"] == "none"
    assert rows["next reminder"] == (f"{next_utc[:10]} {next_utc[11:16]} UTC = 20:15 "
                                     "America/Chicago")
    delivered = facts["last_delivery"]
    assert rows["last delivery"] == f"{delivered['date']} by sms: {delivered['status']}"
    assert rows["heat ok"] == "no" and rows["massage ok"] == "yes"
    assert rows["paused until"] == "-" and rows["open foot problems"] == "none"
    assert rows["caregiver"] == "-"
    # Every field of the JSON has its row, and no Python value is printed raw.
    assert len(rows) == len(facts)
    assert not re.search(r"\{'|\bNone\b|\bTrue\b|\bFalse\b|\[\]", shown.stdout)


def without_redis_url(env: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in child_env(env).items() if k != "REDIS_URL"}


def test_every_command_finds_the_redis_make_run_wrote_down(
        base_env: dict[str, str], redis_url: str, tmp_path: Path) -> None:
    state = tmp_path / "state"
    remember = subprocess.run([str(PROJECT_ROOT / "scripts" / "ensure_redis.sh"), "--remember",
                               redis_url], env={**os.environ, "STATE_DIR": str(state)},
                              capture_output=True, text=True, timeout=30)
    assert remember.returncode == 0, remember.stderr
    assert (state / "redis.url").read_text() == redis_url + "\n"
    assert (state / "redis.url").stat().st_mode & 0o077 == 0  # a URL may hold a password
    assert reminders(child_env(base_env), "subscribe", PHONE, "--confirmed").returncode == 0

    # A second terminal: no REDIS_URL anywhere, run from a directory with no .env.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**without_redis_url(base_env), "STATE_DIR": str(state)}
    listed = reminders(env, "list", "--json", cwd=elsewhere)
    assert listed.returncode == 0, listed.stderr
    assert [row["phone"] for row in json.loads(listed.stdout)] == [PHONE]


def test_redis_url_in_the_environment_or_env_file_wins_over_the_file(
        base_env: dict[str, str], redis_url: str, tmp_path: Path) -> None:
    assert reminders(child_env(base_env), "subscribe", PHONE, "--confirmed").returncode == 0
    state = tmp_path / "state"
    state.mkdir()
    dead = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    (state / "redis.url").write_text(dead + "\n")
    here = tmp_path / "project"
    here.mkdir()
    env = {**without_redis_url(base_env), "STATE_DIR": str(state)}

    # Only the file: it is used, and the error says where the URL came from.
    failed = reminders(env, "list", "--json", cwd=here)
    assert failed.returncode == 1
    assert str(state / "redis.url") in failed.stderr and "make run" in failed.stderr
    assert len(failed.stderr.strip().splitlines()) == 1

    # The environment wins over the file.
    by_env = reminders({**env, "REDIS_URL": redis_url}, "list", "--json", cwd=here)
    assert [row["phone"] for row in json.loads(by_env.stdout)] == [PHONE]

    # So does .env in the working directory.
    (here / ".env").write_text(f"REDIS_URL={redis_url}\n")
    by_dotenv = reminders(env, "list", "--json", cwd=here)
    assert [row["phone"] for row in json.loads(by_dotenv.stdout)] == [PHONE]


@pytest.mark.slow  # starts `reminders run`: web, worker and beat
def test_run_prints_the_demo_line_last_and_again_when_the_reminder_is_sent(
        base_env: dict[str, str], tmp_path: Path) -> None:
    port = free_port()
    log_path = tmp_path / "run.log"
    env = child_env({**base_env, "STATE_DIR": str(tmp_path / "state"),
                     "DISPATCH_INTERVAL_SECONDS": "1"})
    with log_path.open("wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "reminders", "run", "--port", str(port),
                                 "--demo-lead", "5"], cwd=PROJECT_ROOT, env=env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_until(lambda: "first reminder in about" in log_path.read_text(), 90, "the demo line")
        time.sleep(1)  # anything printed after it would show up now
        startup = log_path.read_text()
        lines = [line for line in startup.splitlines() if line.strip()]
        assert re.fullmatch(r"\*\*\* Demo subscriber \+12025550100 \(\S+, \d\d:\d\d local\): "
                            r"first reminder in about \d+ s\. .* Ctrl-C stops\. \*\*\*",
                            lines[-1]), lines[-1]
        assert "reminders run: ready in" in startup and f"http://127.0.0.1:{port}/" in startup
        # What means nothing to a newcomer is not shown.
        for noise in ("-------------- worker@", "[config]", "superuser privileges",
                      "Serving Flask app", "development server", "mingle", "Connected to"):
            assert noise not in startup, noise
        wait_until(lambda: "the first reminder was sent" in log_path.read_text(), 80,
                   "the demo reminder")
        time.sleep(0.5)
        output = log_path.read_text()
        sent_at = output.index("the first reminder was sent")
        # The reminder itself was printed above that line, and the outbox holds it.
        assert "SMS to +*********00" in output[:sent_at]
        copy = re.search(r"a copy is in (\S+\.json)\)", output[sent_at:])
        assert copy and json.loads(Path(copy[1]).read_text())["to"] == "+12025550100"
        proc.send_signal(signal.SIGINT)
        assert proc.wait(30) == 0
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
