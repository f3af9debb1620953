"""Fuzzing the console's import routes as a logged-in operator: any upload (bytes, names with
CR/LF or emoji, no file, two files) and any job id or page number. Never a 5xx or a traceback;
an accepted upload becomes a job that ends "done" or "failed" whatever its bytes (the job is run
here, in this process, as the worker would); the pages' GETs change nothing in Redis.

(tests/entry/web/test_webhook_fuzz.py sends every route, these included, anonymous bodies; this one
gets past the login and CSRF to the handlers.)
"""

from __future__ import annotations

import io
from typing import Any
from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reminders.app.imports import jobs as import_jobs
from reminders.entry.web.app import create_app
from reminders.storage import imports
from reminders.wiring import Services
from tests.console_client import add_operator, logged_in
from tests.snapshot import differences, snapshot

HEADER = st.sampled_from([b"phone,name,time,confirmed\n", b"email,channel\n",
                          b"\xef\xbb\xbfphone\r\n", b"", b"fone\n", b"phone,phone\n"])
CELL = st.one_of(st.sampled_from(["+13125550142", "nope", "ana@example.org", "20:30", "yes",
                                  '"', "=cmd()", "\x00", "😀", "a" * 300]),
                 st.text(max_size=20))
LINES = st.lists(st.lists(CELL, max_size=5).map(lambda cells: ",".join(cells)), max_size=8)
BODY = st.one_of(st.tuples(HEADER, LINES).map(
    lambda parts: parts[0] + "\n".join(parts[1]).encode("utf-8", "surrogatepass")),
    st.binary(max_size=200))
NAMES = st.one_of(st.sampled_from(["people.csv", "a\r\nb.csv", "😀.csv", "../../etc/passwd",
                                   "x" * 500, " "]), st.text(min_size=1, max_size=40))


def test_no_upload_or_page_of_the_import_gives_a_5xx(console_services: Services) -> None:
    svc = console_services
    add_operator(svc)
    console = logged_in(create_app(svc))
    console.get("/console/import")

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(body=BODY, name=NAMES, files=st.sampled_from([0, 1, 1, 1, 2]))
    def upload(body: bytes, name: str, files: int) -> None:
        fields: dict[str, Any] = {}
        if files:
            fields["file"] = [(io.BytesIO(body), name) for _ in range(files)]
        response = console.post("/console/import", fields, content_type="multipart/form-data")
        assert response.status_code in (303, 400), response.get_data(as_text=True)[:300]
        if response.status_code == 400:
            return
        job_id = response.headers["Location"].rsplit("/", 1)[1]
        job = imports.get(svc.redis, job_id) or {}
        assert job["state"] == "queued" and "\n" not in job["file"] and len(job["file"]) <= 120
        assert import_jobs.run(svc.store, svc.settings, job_id) in ("done", "failed")
        page = console.get(f"/console/import/{job_id}")
        assert page.status_code == 200 and b"Traceback" not in page.data

    upload()
    jobs = [job_id for job_id, _ in imports.recent(svc.redis)]
    assert jobs

    @settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
    @given(job=st.one_of(st.sampled_from(jobs), st.text(max_size=30)),
           page=st.one_of(st.integers(-5, 10**9).map(str), st.text(max_size=12)),
           method=st.sampled_from(["GET", "HEAD"]))
    def read(job: str, page: str, method: str) -> None:
        before = snapshot(svc.redis)
        response = console.client.open(f"/console/import/{quote(job, safe='')}", method=method,
                                        query_string={"page": page})
        assert response.status_code in (200, 404, 308), (job, page, response.status_code)
        assert b"Traceback" not in response.data
        assert differences(before, snapshot(svc.redis)) == []

    read()
