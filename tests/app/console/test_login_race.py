"""The console's login limit holds when the guesses come all at once, and a burst of password
checks cannot take the web process's memory with it (each Argon2 check holds 64 MiB)."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from reminders.app.console import operators
from reminders.settings import PROJECT_ROOT
from reminders.wiring import Services
from tests.conftest import child_env, free_port, wait_until
from tests.console_client import OPERATOR, PASSWORD, add_operator
from tests.webhook_client import serve

_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
WRONG = "Wrong email or password."
TOO_MANY = "Too many failed attempts."


def burst(base: str, logins: list[tuple[str, str]]) -> list[str]:
    """POST every (email, password) at the same instant, each from its own browser session;
    the login page's message of each answer."""
    sessions = []
    for _ in logins:
        browser = requests.Session()
        page = browser.get(base + "/console/login", timeout=30).text
        found = _TOKEN.search(page)
        assert found
        sessions.append((browser, found.group(1)))
    start = threading.Barrier(len(logins))
    said: list[str] = []

    def attempt(i: int) -> None:
        browser, token = sessions[i]
        email, password = logins[i]
        start.wait()
        answer = browser.post(base + "/console/login", timeout=120, allow_redirects=False,
                              data={"email": email, "password": password, "csrf_token": token})
        said.append(next((m for m in (WRONG, TOO_MANY, "busy") if m in answer.text),
                         str(answer.status_code)))

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(len(logins))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(180)
    return said


def test_forty_parallel_wrong_passwords_get_no_more_checks_than_the_limit(
        console_services: Services) -> None:
    add_operator(console_services)
    with serve(console_services) as base:
        said = burst(base, [(OPERATOR, f"wrong guess {n}") for n in range(40)])
        assert len(said) == 40
        assert said.count(WRONG) == operators.MAX_ACCOUNT_FAILURES, said
        assert said.count(TOO_MANY) == 40 - operators.MAX_ACCOUNT_FAILURES
        # Locked for the window, even with the right password.
        assert burst(base, [(OPERATOR, PASSWORD)]) == [TOO_MANY]


def test_a_right_password_is_not_held_against_the_address(console_services: Services) -> None:
    add_operator(console_services)
    with serve(console_services) as base:
        for _ in range(operators.MAX_ADDRESS_FAILURES + 3):
            assert burst(base, [(OPERATOR, PASSWORD)]) == ["302"]


@pytest.fixture
def web_process(base_env: dict[str, str], tmp_path: Path) -> Iterator[tuple[str, int]]:
    port = free_port()
    log = (tmp_path / "web.log").open("w")
    process = subprocess.Popen([sys.executable, "-m", "reminders", "web", "--port", str(port)],
                               cwd=PROJECT_ROOT, env=child_env(base_env), stdout=log,
                               stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _answers(base), 30, "the web process")
        yield base, process.pid
    finally:
        process.terminate()
        process.wait(10)


def _answers(base: str) -> bool:
    try:
        return requests.get(base + "/healthz", timeout=1).status_code == 200
    except requests.RequestException:
        return False


def peak_rss_mib(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    found = re.search(r"VmHWM:\s+(\d+) kB", status)
    assert found
    return int(found.group(1)) / 1024


def test_a_burst_of_logins_checks_a_few_passwords_at_a_time(
        web_process: tuple[str, int]) -> None:
    base, pid = web_process
    burst(base, [("warm-up@example.org", "x" * 12)])  # the dummy hash is made once
    before = peak_rss_mib(pid)
    # Three rounds of checks (one attempt an account, under the per-address limit): every
    # password is checked, the last after waiting two checks' time. A longer queue waits
    # longer than CHECK_WAIT_SECONDS on a busy machine (19 did: nine checks of ~1.2 s) and
    # its last logins are rightly refused as busy.
    accounts = operators.MAX_CONCURRENT_CHECKS * 3
    said = burst(base, [(f"guess{n}@example.org", "x" * 12) for n in range(accounts)])
    assert said.count(WRONG) == accounts, said
    grown = peak_rss_mib(pid) - before
    # One check holds 64 MiB; all of them at once would take accounts * 64 MiB (384 MiB).
    limit = (operators.MAX_CONCURRENT_CHECKS + 1) * 64 + 32
    assert accounts * 64 > limit  # so an unlimited burst fails here
    assert grown < limit, f"peak grew {grown:.0f} MiB"
