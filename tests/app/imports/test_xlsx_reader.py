"""An Excel workbook (.xlsx) imports as its CSV would: the cells Excel stores as numbers, times,
dates and booleans come out as the text a person would type. A file that is not a workbook (not
a zip, an encrypted or old .xls file, empty, 10 MB of noise, a zip of something else) is one
clear line and changes nothing. Refused rows are named by row and name. Through
`reminders import` on a real Redis; workbooks are built here with openpyxl."""

from __future__ import annotations

import io
import json
import os
import re
import zipfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import openpyxl
import pytest

from reminders.app.console import coordinator
from reminders.app.imports import csv_reader, jobs
from reminders.app.people.preferences import Enrolment, enrol
from reminders.entry.web.app import create_app
from reminders.storage import consent_log
from reminders.wiring import Services
from testing.twilio_api import FakeTwilio
from tests.conftest import CeleryProcess, Cli, wait_until
from tests.console_client import OPERATOR, add_operator, logged_in

EARLIER = "+13125550149"
HEADER = ["phone", "name", "timezone", "time", "confirmed", "language", "consented_at"]
# The same people as a CSV would hold them, and as Excel stores what was typed.
CSV = ("phone,name,timezone,time,confirmed,language,consented_at\n"
       "13125550150,José Núñez,America/Chicago,20:30,yes,es,2024-03-05\n"
       "+13125550151,Siobhán O\u2019Neil,America/New_York,19:45,no,en,2024-03-05T18:30:00\n"
       "not a phone,Rita Bad\n")
CELLS: list[list[object]] = [
    [13125550150.0, "José Núñez", "America/Chicago", time(20, 30), True, "es",
     datetime(2024, 3, 5)],
    ["+13125550151", "Siobhán O\u2019Neil", "America/New_York", time(19, 45), False, "en",
     datetime(2024, 3, 5, 18, 30)],
    ["not a phone", "Rita Bad"],
]


def workbook(rows: list[list[object]], gap: bool = False) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADER)
    for row in rows:
        if gap:
            sheet.append([])  # a blank row: skipped, but the row numbers still count it
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def chunks(data: bytes) -> csv_reader.Source:
    def read() -> Iterator[bytes]:
        return iter([data[i:i + 4096] for i in range(0, len(data), 4096)])
    return read


def people(cli: Cli) -> dict[str, dict[str, object]]:
    return {row["phone"]: row for row in json.loads(cli("list", "--json").stdout)}


def test_a_workbooks_cells_read_as_its_csv_would() -> None:
    from_csv = [cells for _, cells in csv_reader.records(chunks(CSV.encode()), "x.csv")]
    from_xlsx = [cells for _, cells in csv_reader.records(chunks(workbook(CELLS)), "x.xlsx")]
    assert from_xlsx == from_csv


def test_a_sheets_stated_dimensions_are_not_trusted() -> None:
    """Some writers state A1:A1 whatever the sheet holds: every cell is still read."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(workbook(CELLS))) as good, \
            zipfile.ZipFile(out, "w") as archive:
        for name in good.namelist():
            data = good.read(name)
            if name == "xl/worksheets/sheet1.xml":
                data, count = re.subn(rb'<dimension ref="[^"]*" ?/>', b'<dimension ref="A1:A1"/>',
                                      data)
                assert count == 1
            archive.writestr(name, data)
    from_csv = [cells for _, cells in csv_reader.records(chunks(CSV.encode()), "x.csv")]
    cells = [cells for _, cells in csv_reader.records(chunks(out.getvalue()), "x.xlsx")]
    assert cells == from_csv


def test_a_workbook_imports_and_names_the_refused_row(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "clinic.xlsx"
    path.write_bytes(workbook(CELLS, gap=True))
    done = cli("import", str(path))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[:2] == [
        "row 7 (Rita Bad): not a phone number: 'not a phone'",
        "imported 2, unchanged 0, failed 1"]
    found = people(cli)
    assert sorted(found) == ["+13125550150", "+13125550151"]
    jose = json.loads(cli("show", "+13125550150", "--json").stdout)
    assert {k: jose[k] for k in ("name", "time", "timezone", "language", "sms_status")} == {
        "name": "José Núñez", "time": "20:30", "timezone": "America/Chicago",
        "language": "es", "sms_status": "active"}
    siobhan = json.loads(cli("show", "+13125550151", "--json").stdout)
    assert (siobhan["time"], siobhan["sms_status"]) == ("19:45", "pending")
    again = cli("import", str(path))  # the same workbook again changes nothing
    assert "imported 0, unchanged 2, failed 1" in again.stdout


def _damaged(part: str | None) -> bytes:
    """None: a zip of something else; a part's name: a workbook with that part's XML broken;
    "deflate": a workbook with a byte of a compressed part changed."""
    out = io.BytesIO()
    if part == "deflate":
        data = bytearray(workbook(CELLS))
        start = data.index(b"xl/worksheets/sheet1.xml") + len("xl/worksheets/sheet1.xml")
        data[start + 5] ^= 0xFF  # inside the sheet's deflate stream
        return bytes(data)
    with zipfile.ZipFile(out, "w") as archive:
        if part is None:
            archive.writestr("notes.txt", "phone\n+13125550150\n")
        else:
            with zipfile.ZipFile(io.BytesIO(workbook(CELLS))) as good:
                for name in good.namelist():
                    archive.writestr(name, b"<<<not xml" if name == part else good.read(name))
    return out.getvalue()


@pytest.mark.parametrize("content,message", [
    (b"phone,name\n+13125550150,Ana\n", "is not an .xlsx workbook (not a zip archive)"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(4096), "is password-protected or an old .xls"),
    (b"", "is empty"),
    (b"PK\x03\x04" + os.urandom(10 * 1024 * 1024), "is not a readable .xlsx workbook"),
    (None, "is not a readable .xlsx workbook"),
    ("xl/worksheets/sheet1.xml", "is not a readable .xlsx workbook"),  # its XML broken
    ("deflate", "is not a readable .xlsx workbook"),  # a compressed part damaged
])
def test_a_file_that_is_not_a_workbook_is_one_clear_line(cli: Cli, tmp_path: Path,
                                                         content: bytes | str | None,
                                                         message: str) -> None:
    path = tmp_path / "clinic.xlsx"
    path.write_bytes(content if isinstance(content, bytes) else _damaged(content))
    refused = cli("import", str(path))
    assert refused.returncode == 2, refused.stdout
    assert message in refused.stderr and "Traceback" not in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    assert people(cli) == {}


# -- the console's import job: refused rows by name, and asking its pending people once ------
def test_the_report_page_names_refused_rows_and_asks_the_imports_pending_people_once(
        twilio_services: Services, fake_twilio: FakeTwilio, twilio_env: dict[str, str],
        start_worker: Callable[..., CeleryProcess]) -> None:
    svc = twilio_services
    add_operator(svc)
    console = logged_in(create_app(svc))
    enrol(svc.store, svc.settings, Enrolment(phone=EARLIER, name="Earlier", time="20:00"))
    job_id = jobs.upload(svc.store, OPERATOR, "clinic.xlsx", io.BytesIO(workbook([
        *CELLS, [EARLIER, "Earlier again"], [3125550153, "Inés Paz"]])),
        datetime.now(UTC))
    assert jobs.run(svc.store, svc.settings, job_id) == "done"
    page = console.get(f"/console/import/{job_id}").get_data(as_text=True)
    assert "<th>Row</th><th>Name</th>" in page
    assert "<tr><td>4</td><td>Rita Bad</td><td>not a phone number: &#39;not a phone&#39;" in page
    assert "Send the confirmation to all pending from this import" in page
    # Siobhán answers YES before anyone asks: she is not asked; Earlier (pending, but not
    # from this import: unchanged by it) and José (confirmed) are not either: Inés is.
    svc.inbound(datetime.now(UTC)).handle("+13125550151", "YES")
    fake_twilio.messages.clear()
    for _ in range(2):  # a double click: two jobs on the broker, nobody asked twice
        response = console.post(f"/console/import/{job_id}/confirm", {})
        assert response.status_code == 303
    waiting = console.get(f"/console/import/{job_id}").get_data(as_text=True)
    assert "Asking the people this import left pending" in waiting
    assert 'http-equiv="refresh"' in waiting and "Send the confirmation to all" not in waiting
    worker = start_worker(twilio_env, concurrency=2)
    wait_until(lambda: worker.log().count("reminders.confirm_import[") >= 4, 60,
               "both asking jobs to end")  # (each: received, succeeded)
    assert [m.to for m in fake_twilio.messages] == ["+13125550153"]
    assert "YES" in fake_twilio.messages[0].body.upper()
    done = console.get(f"/console/import/{job_id}").get_data(as_text=True)
    assert "Confirmation texts to the pending people of clinic.xlsx: asked " in done
    assert 'http-equiv="refresh"' not in done
    console.post(f"/console/import/{job_id}/confirm", {})  # pressed again later: nobody
    wait_until(lambda: "asked 0, 1 already asked from this import" in console.get(
        f"/console/import/{job_id}").get_data(as_text=True), 60, "the third job to end")
    tomorrow = datetime.now(UTC) + timedelta(days=1)  # not once a day: once for good
    assert coordinator.ask_import(svc.store, svc.confirmations, job_id, OPERATOR,
                                  tomorrow).sent == []
    words = [e["words"] for _, e in consent_log.export(svc.redis)
             if e.get("action") in ("console_confirm", "console_confirm_import")]
    assert f"{OPERATOR}: clinic.xlsx ({job_id})" in words  # who pressed the button
    assert any(w.endswith(f"(import {job_id})") for w in words)  # whom it asked
    # Without a CSRF token nothing is sent, and a GET of the button's address is not a send.
    assert console.post(f"/console/import/{job_id}/confirm", {}, csrf="").status_code == 400
    assert console.get(f"/console/import/{job_id}/confirm").status_code == 405
    assert len(fake_twilio.messages) == 1
