"""A whole coordinator's day in a real browser (headless Debian chromium, Playwright), against
`reminders web` in its own process with texts going to the local fake Twilio, and a Celery
worker for the imports. No shell: log in, import a CSV saved by Excel on Windows (Windows-1252,
"José") and an .xlsx workbook, read the refused rows by name, ask everyone an import left
pending (twice clicked, each texted once), enrol a person, invite a caregiver, work the inbox
item a signed inbound text opened (take it, close it with an outcome and a note), change a
language on Tonight and pause someone there. Screenshots go under the test's tmp dir; their
folder is printed.
"""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from reminders.app.people.preferences import Enrolment, enrol
from reminders.entry.cli.runner import demo_zone
from reminders.settings import PROJECT_ROOT
from reminders.wiring import Services
from testing.twilio_api import DEFAULT_AUTH_TOKEN, FakeTwilio
from tests.conftest import CeleryProcess, child_env, free_port, make_services, wait_until
from tests.entry.web.console.test_console_browser import OPERATOR, PASSWORD, _up, page, sync_api
from tests.webhook_client import WebhookClient

__all__ = ["page"]  # the browser fixture, shared with the console's first browser test
pytestmark = pytest.mark.slow
BO, EVA = "+13125550161", "+13125550162"
JOSE, SIOBHAN, INES, TEO = "+13125550180", "+13125550181", "+13125550182", "+13125550183"
DORA = "+13125550177"


@pytest.fixture
def day(twilio_env: dict[str, str], tmp_path: Path,
        start_worker: Callable[..., CeleryProcess]) -> Iterator[tuple[str, Services]]:
    """`reminders web` (Twilio backend at the fake) and a worker; Bo, and Eva due tonight."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**twilio_env, "PUBLIC_URL": base}
    svc = make_services(env)
    enrol(svc.store, svc.settings, Enrolment(phone=BO, name="Bo Chen", confirmed=True))
    soon = (datetime.now(UTC) + timedelta(minutes=30)).replace(second=0, microsecond=0)
    zone, local = demo_zone(soon)
    enrol(svc.store, svc.settings, Enrolment(phone=EVA, name="Eva Due", confirmed=True,
                                             timezone=zone, time=local.strftime("%H:%M")))
    added = subprocess.run([sys.executable, "-m", "reminders", "operator", "add", OPERATOR,
                            "--password-stdin"], input=PASSWORD + "\n", text=True,
                           capture_output=True, cwd=PROJECT_ROOT, env=child_env(env), timeout=60)
    assert added.returncode == 0, added.stderr
    start_worker(env)
    log = (tmp_path / "web.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "reminders", "web", "--port", str(port)],
                            cwd=PROJECT_ROOT, env=child_env(env), stdout=log,
                            stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: _up(base) or proc.poll() is not None, 30, "reminders web to answer")
        assert proc.poll() is None, (tmp_path / "web.log").read_text()
        yield base, svc
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()


def workbook() -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["phone", "name", "timezone", "time", "confirmed"])
    sheet.append([13125550182.0, "Inés Paz", "America/Denver", time(19, 30), None])
    sheet.append(["12", "Tom Bad", "America/Denver", time(19, 30), None])
    sheet.append([3125550183, "Teo Ruiz", "America/Denver", time(20, 15), True])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def texts_to(fake: FakeTwilio, phone: str) -> list[str]:
    return [m.body for m in fake.messages if m.to == phone]


def test_a_coordinators_whole_day(day: tuple[str, Services], page: Any, tmp_path: Path,
                                  fake_twilio: FakeTwilio) -> None:
    base, svc = day
    expect = sync_api.expect
    shots = tmp_path / "screenshots"
    shots.mkdir()
    print(f"\nscreenshots: {shots}")

    def shot(name: str) -> None:
        page.screenshot(path=str(shots / f"{name}.png"), full_page=True)

    page.goto(base + "/console")
    page.get_by_label("Email").fill(OPERATOR)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Tonight")).to_be_visible()

    # 1. A CSV saved by Excel on Windows: Windows-1252, one "José"; one row refused, by name.
    clinic = tmp_path / "clinic.csv"
    clinic.write_bytes(("phone,name,timezone,time\r\n"
                        f"{JOSE},José Núñez,America/Chicago,20:00\r\n"
                        f"{SIOBHAN},Siobhán Kelly,America/New_York,19:30\r\n"
                        "nope,Rita Bad,America/Chicago,20:00\r\n").encode("cp1252"))
    page.get_by_role("link", name="Import").click()
    page.get_by_label("CSV file").set_input_files(str(clinic))
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_role("status")).to_contain_text(
        "imported 2, unchanged 0, failed 1; 2 pending confirmation")
    refused = page.get_by_role("table", name="Rows not imported")
    expect(refused).to_contain_text("Rita Bad")
    expect(refused).to_contain_text("not a phone number")
    assert svc.store.require(JOSE).name == "José Núñez"
    shot("import-csv")

    # ... and everyone it left pending asked, each once however often the button is pressed
    # (a worker asks them; the page refreshes itself until it has)
    ask = page.get_by_role("button", name="Send the confirmation to all pending from this import")
    ask.click()
    expect(page.get_by_text("Confirmation texts to the pending people of clinic.csv: asked 2")
           ).to_be_visible(timeout=30_000)
    ask.click()
    expect(page.get_by_text("asked 0, 2 already asked from this import")).to_be_visible(
        timeout=30_000)
    assert len(texts_to(fake_twilio, JOSE)) == 1 and len(texts_to(fake_twilio, SIOBHAN)) == 1
    assert "YES" in texts_to(fake_twilio, JOSE)[0].upper()
    shot("import-csv-asked")

    # 2. An .xlsx workbook: phones as numbers, times as times; the refused row by row and name.
    book = tmp_path / "clinic.xlsx"
    book.write_bytes(workbook())
    page.get_by_role("link", name="Import another file").click()
    page.get_by_label("CSV file").set_input_files(str(book))
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_role("status")).to_contain_text(
        "imported 2, unchanged 0, failed 1; 1 pending confirmation")
    refused = page.get_by_role("table", name="Rows not imported")
    expect(refused).to_contain_text("Tom Bad")
    expect(refused.locator("th").first).to_have_text("Row")
    expect(refused.locator("td").first).to_have_text("3")
    ines, teo = svc.store.require(INES), svc.store.require(TEO)
    assert (ines.sms_status, ines.send_time.strftime("%H:%M"), teo.sms_status) == (
        "pending", "19:30", "active")
    shot("import-xlsx")

    # 3. Enrol one person (Central time by its common name); the double opt-in text goes out.
    page.get_by_role("link", name="Enrol").click()
    page.get_by_label("Name").fill("Dora Vega")
    page.get_by_label("Mobile number").fill("(312) 555-0177")
    page.get_by_label("Time zone").select_option(label="Central (Chicago, Dallas)")
    page.get_by_label("Evening time").fill("19:30")
    page.get_by_role("button", name="Enrol and send the confirmation").click()
    expect(page.get_by_role("status")).to_contain_text("Enrolled; confirmation: asked 1")
    expect(page.get_by_role("heading", name="Dora Vega")).to_be_visible()
    assert len(texts_to(fake_twilio, DORA)) == 1

    # 4. A caregiver, invited from the person page.
    page.get_by_label("Caregiver's number").fill("(312) 555-0178")
    page.get_by_label("Caregiver's name").fill("Luis")
    page.get_by_role("button", name="Invite caregiver").click()
    expect(page.get_by_role("status")).to_contain_text("Invited +13125550178")
    assert texts_to(fake_twilio, "+13125550178")
    shot("enrol-and-caregiver")

    # 5. Bo texts about a blister (a signed webhook, as Twilio posts it): the inbox has it.
    hooks = WebhookClient(base, base, DEFAULT_AUTH_TOKEN)
    assert hooks.text(BO, "I found a blister under my big toe").status_code == 200
    page.get_by_role("link", name="Inbox").click()
    expect(page.get_by_role("table", name="Inbox")).to_contain_text(
        "I found a blister under my big toe")
    shot("inbox")
    [item] = svc.reviews.inbox()
    page.get_by_role("button", name=f"Take item {item['id']}").click()
    expect(page.get_by_role("status")).to_contain_text(f"Item {item['id']} is yours")
    page.get_by_label("Outcome").select_option("reached")
    page.get_by_label("Note").fill("Called Bo; podiatry Monday, off his feet till then")
    page.get_by_role("button", name=f"Close item {item['id']}").click()
    expect(page.get_by_role("status")).to_contain_text("closed: reached")
    closed = svc.reviews.inbox(include_closed=True)[0]
    assert (closed["owner"], closed["outcome"]) == (OPERATOR, "reached")
    shot("inbox-closed")

    # 6. Tonight: Eva is due within the hour; her language changed in her row, then a pause.
    page.get_by_role("link", name="Tonight").click()
    due = page.get_by_role("table", name="Tonight's people")
    expect(due).to_contain_text("Eva Due")
    page.get_by_label("Language, Eva Due").select_option("es")
    page.get_by_role("button", name="Save Eva Due").click()
    expect(page.get_by_role("status").first).to_contain_text("Saved: language.")
    assert svc.store.require(EVA).language == "es"
    shot("tonight-language")
    page.get_by_label("Paused until, Eva Due").fill("in two weeks")
    page.get_by_role("button", name="Save Eva Due").click()
    expect(page.get_by_role("alert")).to_contain_text("Not saved")
    until = (datetime.now(UTC) + timedelta(days=14)).date().isoformat()
    page.get_by_label("Paused until, Eva Due").fill(until)
    page.get_by_role("button", name="Save Eva Due").click()
    expect(page.get_by_role("status").first).to_contain_text("Saved: paused_until.")
    page.goto(base + f"/console/people/{EVA}")
    expect(page.get_by_text(f"paused until {until}")).to_be_visible()
    shot("paused")

    assert sorted(p.name for p in shots.iterdir()) == sorted(
        f"{name}.png" for name in ("import-csv", "import-csv-asked", "import-xlsx",
                                   "enrol-and-caregiver", "inbox", "inbox-closed",
                                   "tonight-language", "paused"))
    assert all(p.stat().st_size > 1000 for p in shots.iterdir())
