"""The console's import is a job on a real Celery worker: the upload answers at once with the
job's page, which shows progress (GET only: it writes nothing), then the counts and the refused
rows a page at a time; one audit line says who imported which file with what result.

The job's own rules (a broken file imports nothing, a task delivered twice runs once, a job
whose worker stopped says so) are checked in this process, on the job function the task runs.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from reminders.app.imports import jobs
from reminders.storage import consent_log, imports
from reminders.wiring import Services
from tests.conftest import CeleryProcess, wait_until
from tests.console_client import OPERATOR, Console, console_with_person
from tests.snapshot import differences, snapshot

PHONE = "+13125550140"


@pytest.fixture
def console(console_services: Services) -> Console:
    return console_with_person(console_services, PHONE, email="ana@example.org")


def audit_lines(svc: Services) -> list[str]:
    return [event["words"] for _, event in consent_log.export(svc.redis)
            if event.get("action") == "console_import"]


def upload(console: Console, data: bytes, name: str) -> str:
    console.get("/console/import")
    response = console.post("/console/import", {"file": (io.BytesIO(data), name)},
                            content_type="multipart/form-data")
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    found = re.fullmatch(r".*/console/import/([0-9a-f]{16})", response.headers["Location"])
    assert found, response.headers["Location"]
    return found.group(1)


def finished_page(console: Console, job_id: str, timeout: float = 60) -> str:
    """The job's page once it no longer refreshes itself (the operator's view of the end)."""
    pages: list[str] = []

    def ended() -> bool:
        pages.append(console.get(f"/console/import/{job_id}").get_data(as_text=True))
        return 'http-equiv="refresh"' not in pages[-1]

    wait_until(ended, timeout, "the import job to end")
    return pages[-1]


def test_the_console_import_runs_on_a_worker_with_progress_report_pages_and_an_audit_line(
        console: Console, console_services: Services, base_env: dict[str, str],
        start_worker: Callable[..., CeleryProcess]) -> None:
    svc = console_services
    bad = "".join(f"not-a-phone-{n},Bad {n},,\n" for n in range(250))
    data = ("phone,name,time,confirmed\n+13125550150,Cy,20:30,yes\n" + bad
            + f"{PHONE},Ana again,,yes\n+13125550151,Di,,\n").encode()
    job_id = upload(console, data, "clinic.csv")  # no worker yet: the job waits
    waiting = console.get(f"/console/import/{job_id}").get_data(as_text=True)
    assert "Waiting for a worker" in waiting and 'http-equiv="refresh"' in waiting
    assert svc.store.find("+13125550150") is None

    worker = start_worker(base_env, concurrency=2)
    page = finished_page(console, job_id)
    assert "imported 2, unchanged 1, failed 250; 1 pending confirmation." in page
    # Refused rows, a hundred a page, in file order, with the line each starts on.
    assert page.count("<tr><td>") == 100 and "<td>3</td>" in page and "Page 1 of 3" in page
    assert "not a phone number" in page.lower()
    last = console.get(f"/console/import/{job_id}?page=3").get_data(as_text=True)
    assert last.count("<tr><td>") == 50 and "<td>203</td>" in last and "<td>252</td>" in last
    assert "<td>202</td>" not in last and "<td>253</td>" not in last  # 253: Ana, unchanged
    cy, di = svc.store.require("+13125550150"), svc.store.require("+13125550151")
    assert (cy.sms_status, di.sms_status) == ("active", "pending")
    assert svc.store.consent_history(cy.id)[0]["words"] == f"{OPERATOR}: import clinic.csv"
    assert audit_lines(svc) == [
        f"{OPERATOR}: clinic.csv: imported 2, unchanged 1, failed 250 (253 rows)"]
    assert svc.redis.exists(f"fc:import:{job_id}:file") == 0  # the upload is not kept
    listing = console.get("/console/import").get_data(as_text=True)
    assert f"/console/import/{job_id}" in listing and "clinic.csv" in listing

    # Reading the pages, the listing, any page number, writes nothing. The worker goes first:
    # it still acknowledges the job's task after the page says done (a write of its own).
    worker.stop()
    before = snapshot(svc.redis)
    for path in (f"/console/import/{job_id}", f"/console/import/{job_id}?page=2",
                 f"/console/import/{job_id}?page=-1", f"/console/import/{job_id}?page=" + "9" * 12,
                 "/console/import", "/console/import/0123456789abcdef", "/console/import/%0a"):
        response = console.get(path)
        assert response.status_code in (200, 404), path
        assert console.client.head(path).status_code in (200, 404), path
    assert differences(before, snapshot(svc.redis)) == []


def test_a_file_that_is_not_csv_imports_nothing_and_says_why(
        console: Console, console_services: Services) -> None:
    svc = console_services
    job_id = jobs.upload(svc.store, OPERATOR, "x.csv",
                         # a picture after a good row: not UTF-8, UTF-16, Windows-1252
                         io.BytesIO(b"phone\n+13125550160\n\x89PNG\r\n\x1a\n\x00\x00"
                                    b"\x00\rIHDR\x00\x01\x02\x90\n"), datetime.now(UTC))
    people = svc.redis.keys("fc:sub:*")
    assert jobs.run(svc.store, svc.settings, job_id) == "failed"
    assert svc.redis.keys("fc:sub:*") == people  # row 2 was good: still not imported
    page = console.get(f"/console/import/{job_id}").get_data(as_text=True)
    assert "Nothing imported: x.csv is not a UTF-8 CSV file" in page
    assert 'http-equiv="refresh"' not in page
    assert audit_lines(svc) == [f"{OPERATOR}: x.csv: not imported (x.csv is not a UTF-8 CSV "
                                "file (nor UTF-16 or Windows-1252 text; undecodable byte at "
                                "offset 19))"]


def test_a_job_delivered_twice_runs_once(console_services: Services) -> None:
    svc = console_services
    job_id = jobs.upload(svc.store, OPERATOR, "twice.csv",
                         io.BytesIO(b"phone,confirmed\n+13125550161,yes\n"),
                         datetime.now(UTC))
    assert jobs.run(svc.store, svc.settings, job_id) == "done"
    assert jobs.run(svc.store, svc.settings, job_id) == ""
    assert audit_lines(svc) == [f"{OPERATOR}: twice.csv: imported 1, unchanged 0, failed 0 "
                                "(1 rows)"]


def test_a_job_nobody_runs_is_shown_stalled_not_forever_in_progress(
        console: Console, console_services: Services) -> None:
    svc = console_services
    long_ago = datetime.now(UTC) - timedelta(seconds=jobs.STALLED_SECONDS + 60)
    job_id = jobs.upload(svc.store, OPERATOR, "lost.csv", io.BytesIO(b"phone\n"),
                         long_ago)
    page = console.get(f"/console/import/{job_id}").get_data(as_text=True)
    assert "This import stopped" in page and 'http-equiv="refresh"' not in page
    assert (imports.get(svc.redis, job_id) or {}).get("state") == "queued"  # said, not changed


def test_no_file_is_a_clear_error(console: Console) -> None:
    console.get("/console/import")
    response = console.post("/console/import", {}, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "Choose a CSV file to upload." in response.get_data(as_text=True)
