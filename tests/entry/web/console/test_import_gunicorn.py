"""Under gunicorn, a 15,000-row console import answers at once: the request only keeps the
upload and hands the job to the broker (the review's finding: the import ran in the request,
the worker timeout killed it after 6,779 rows, a 500 with no report and no audit line).

gunicorn runs with a 5 s worker timeout, a sixth of what one worker took for those rows before,
so the old path is killed and the new one is not; the job itself (tests/app/imports/test_jobs.py)
waits for a worker, as it would with none running.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from reminders.storage import imports
from reminders.wiring import Services
from tests.conftest import child_env, free_port, wait_until
from tests.console_client import csrf_of
from tests.entry.web.test_safe_methods import console_cookie

pytestmark = pytest.mark.slow
ROWS = 15_000


def _answers(base: str) -> bool:
    try:
        return requests.get(base + "/healthz", timeout=2).status_code == 200
    except requests.RequestException:  # not up yet, or slow to start on a loaded machine
        return False


def test_a_15000_row_upload_is_answered_within_gunicorns_worker_timeout(
        twilio_env: dict[str, str], twilio_services: Services, tmp_path: Path) -> None:
    port = free_port()
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    proc = subprocess.Popen([gunicorn, "--bind", f"127.0.0.1:{port}", "--workers", "1",
                             "--timeout", "5", "--access-logfile", str(tmp_path / "access.log"),
                             "reminders.web:wsgi_app()"],
                            env=child_env(twilio_env), stdout=subprocess.DEVNULL,
                            stderr=(tmp_path / "gunicorn.log").open("wb"))
    base = f"http://127.0.0.1:{port}"
    rows = "".join(f"+1312{2000000 + n},Person {n},20:00,yes\n" for n in range(ROWS))
    try:
        wait_until(lambda: _answers(base), 30, "gunicorn to serve")
        cookie = console_cookie(twilio_services, base)
        page = requests.get(base + "/console/import", headers={"Cookie": cookie}, timeout=10)
        if "console_session" in page.cookies:  # the form's CSRF token went into the session
            cookie = f"console_session={page.cookies['console_session']}"
        response = requests.post(
            base + "/console/import", headers={"Cookie": cookie}, timeout=30,
            allow_redirects=False, data={"csrf_token": csrf_of(page.text)},
            files={"file": ("clinic.csv", f"phone,name,time,confirmed\n{rows}", "text/csv")})
        # gunicorn's access log masks a searched number and address, also percent-encoded.
        for query in ("%2B13125550123", "ana.lima%40example.org", "(312)%20555-0123"):
            requests.get(f"{base}/console/people?q={query}", headers={"Cookie": cookie},
                         timeout=10)
    finally:
        proc.terminate()
        proc.wait(15)
    assert response.status_code == 303, (response.status_code, response.text[:300],
                                         (tmp_path / "gunicorn.log").read_text()[-2000:])
    found = re.search(r"/console/import/([0-9a-f]{16})$", response.headers["Location"])
    assert found
    job = imports.get(twilio_services.redis, found.group(1)) or {}
    assert job.get("state") == "queued" and int(job["bytes"]) > ROWS * 30, job
    assert "WORKER TIMEOUT" not in (tmp_path / "gunicorn.log").read_text()
    access = (tmp_path / "access.log").read_text()  # (written out when gunicorn stops)
    assert access.count("/console/people?q=") == 3, access  # each line keeps its path
    assert "/console/people?q=a[...]@example.org" in access, access
    assert "5550123" not in access and "555-0123" not in access and "ana.lima" not in access
    assert "+********23" in access or "*******23" in access, access
