"""The console's "Print report": the person page links to their visit report, a GET that
serves the PDF to a logged-in operator only, changes nothing in Redis, and logs who printed
whose report."""

from __future__ import annotations

import logging
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from reminders.app.people.preferences import Enrolment, enrol
from reminders.entry.web.app import create_app
from reminders.storage import nights
from reminders.wiring import Services
from tests.conftest import need
from tests.console_client import OPERATOR, Console, add_operator, logged_in
from tests.snapshot import differences, snapshot

PHONE = "+13125550143"


@pytest.fixture
def person(console_services: Services) -> str:
    add_operator(console_services)
    sub = enrol(console_services.store, console_services.settings,
                Enrolment(phone=PHONE, name="Rosa Diaz", confirmed=True, time="19:00",
                          timezone="America/Denver"))
    today = datetime.now(UTC).astimezone(ZoneInfo(sub.timezone)).date()
    for ago, score in ((1, 8), (2, 5)):
        nights.note(console_services.redis, sub.id, today - timedelta(days=ago), done="1",
                    score=str(score))
    return sub.id


def test_print_report_serves_the_pdf_and_logs_who_printed_it(
        console_services: Services, person: str, caplog: pytest.LogCaptureFixture) -> None:
    need(shutil.which("pdftotext") is not None, "pdftotext (poppler-utils) is not installed")
    console = logged_in(create_app(console_services))
    page = console.get(f"/console/people/{PHONE}").get_data(as_text=True)
    assert f'action="/console/people/{PHONE}/report.pdf"' in page and "Print report" in page
    before = snapshot(console_services.redis)
    with caplog.at_level(logging.INFO, logger="reminders.audit"):
        response = console.client.get(f"/console/people/{PHONE}/report.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "inline" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    assert differences(before, snapshot(console_services.redis)) == []
    text = " ".join(subprocess.run(["pdftotext", "-", "-"], input=response.get_data(),
                                   capture_output=True, check=True).stdout.decode().split())
    assert "Rosa Diaz" in text and "2 evenings they did the routine (texted DONE)" in text
    assert "Lowest 5, highest 8, latest 8" in text
    # 12 weeks asked, 45 days kept: the page says from when it knows, not "nothing done".
    known = datetime.now(UTC).astimezone(ZoneInfo("America/Denver")).date() - timedelta(days=44)
    assert f"Evenings are kept 45 days: these numbers start on {known:%b} {known.day}." in text
    audit = [r.getMessage() for r in caplog.records if r.name == "reminders.audit"]
    assert audit == [f"audit operator={OPERATOR} action=visit_report_pdf "
                     f"subscriber={person} weeks=12"]


def test_the_report_needs_a_login_and_a_real_person(console_services: Services,
                                                    person: str) -> None:
    anonymous = Console(create_app(console_services))
    response = anonymous.get(f"/console/people/{PHONE}/report.pdf")
    assert response.status_code == 302 and "/console/login" in response.headers["Location"]
    console = logged_in(create_app(console_services))
    assert console.get("/console/people/+13125550999/report.pdf").status_code == 404
    for weeks in ("0", "99", "x" * 5000, "-3"):
        bad = console.get(f"/console/people/{PHONE}/report.pdf?weeks={weeks}")
        assert bad.status_code == 400, weeks
        assert "between 1 and 52" in bad.get_data(as_text=True)
