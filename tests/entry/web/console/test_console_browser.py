"""The console in a real browser: headless Debian chromium driven by Playwright, against
`reminders web` started as its own process on a free port and a private Redis.

An operator logs in, finds a person, changes their time, clears a flag, uploads a CSV and
sees the charts; each page is saved as a screenshot under var/screenshots/ (not committed).
Playwright never downloads a browser here: it is pointed at /usr/bin/chromium, which
`make test` installs when missing (scripts/ensure_chromium.sh).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests

from reminders.app.people.preferences import Enrolment, enrol
from reminders.settings import PROJECT_ROOT
from reminders.storage import nights
from reminders.wiring import Services
from tests.conftest import (
    CeleryProcess,
    child_env,
    free_port,
    make_services,
    need,
    wait_until,
)

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SHOTS = PROJECT_ROOT / "var" / "screenshots"
OPERATOR, PASSWORD = "coordinator@example.org", "a long console password"
ANA, BO = "+13125550160", "+13125550161"

need(CHROMIUM.exists(), f"{CHROMIUM} is not installed (`make test` installs it: "
                        "scripts/ensure_chromium.sh)")
try:
    from playwright import sync_api
except ImportError:  # said by need() below
    sync_api = None  # type: ignore[assignment]
need(sync_api is not None, "playwright is not installed (`make test` installs it)")

pytestmark = pytest.mark.slow


@pytest.fixture
def web(base_env: dict[str, str], tmp_path: Path) -> Iterator[tuple[str, Services]]:
    """`reminders web` on a free port, with an operator and a few people in its Redis."""
    port = free_port()
    env = {**base_env, "PUBLIC_URL": f"http://127.0.0.1:{port}"}
    svc = make_services(env)
    seed(svc)
    added = subprocess.run([sys.executable, "-m", "reminders", "operator", "add", OPERATOR,
                            "--password-stdin"], input=PASSWORD + "\n", text=True,
                           capture_output=True, cwd=PROJECT_ROOT, env=child_env(env), timeout=60)
    assert added.returncode == 0, added.stderr
    log = (tmp_path / "web.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "reminders", "web", "--port", str(port)],
                            cwd=PROJECT_ROOT, env=child_env(env), stdout=log,
                            stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _up(base) or proc.poll() is not None, 30, "reminders web to answer")
        assert proc.poll() is None, (tmp_path / "web.log").read_text()
        yield base, svc
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()


def _up(base: str) -> bool:
    try:
        return requests.get(base + "/healthz", timeout=2).status_code == 200
    except requests.ConnectionError:
        return False


def seed(svc: Services) -> None:
    now = datetime.now(UTC)
    ana = enrol(svc.store, svc.settings, Enrolment(phone=ANA, name="Ana Lima", confirmed=True,
                                                   time="20:00", timezone="America/Chicago"))
    enrol(svc.store, svc.settings, Enrolment(phone=BO, name="Bo Chen", confirmed=True))
    today = now.astimezone(ZoneInfo(ana.timezone)).date()
    svc.sender.deliver(ana.id, today, now, ignore_late=True)
    for n, score in ((1, "6"), (2, "4"), (3, "3")):
        nights.note(svc.redis, ana.id, today - timedelta(days=n), done="1", score=score)
    svc.inbound(now).handle(BO, "I found a blister under my big toe")


@pytest.fixture
def page() -> Iterator[Any]:
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            tab = browser.new_page(viewport={"width": 1200, "height": 900})
            tab.set_default_timeout(20_000)
            yield tab
        finally:
            browser.close()


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_an_operator_works_through_the_console(web: tuple[str, Services], page: Any,
                                              tmp_path: Path, base_env: dict[str, str],
                                              start_worker: Callable[..., CeleryProcess]
                                              ) -> None:
    base, svc = web
    expect = sync_api.expect
    page.goto(base + "/console")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    shot(page, "login")
    page.get_by_label("Email").fill(OPERATOR)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    # Tonight, with the nights chart (and its table, for who cannot tell the patterns apart)
    expect(page.get_by_role("heading", name="Tonight")).to_be_visible()
    expect(page.get_by_role("img", name="Last 14 nights")).to_be_visible()
    expect(page.get_by_role("table", name="Nights")).to_contain_text("Delivered")
    shot(page, "tonight")

    # find a person, change their time
    page.get_by_role("link", name="People").click()
    page.get_by_label("Search").fill("ana")
    page.get_by_role("button", name="Find").click()
    expect(page.get_by_text("1 found")).to_be_visible()
    shot(page, "people")
    page.get_by_role("link", name=ANA).click()
    expect(page.get_by_role("heading", name="Ana Lima")).to_be_visible()
    expect(page.get_by_role("img", name="Last 30 nights")).to_be_visible()
    page.get_by_label("Evening time").fill("20:30")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Saved: time.")
    assert svc.store.require(ANA).send_time.strftime("%H:%M") == "20:30"
    page.get_by_label("Evening time").fill("7pm tomorrow")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("Not saved")
    assert svc.store.require(ANA).send_time.strftime("%H:%M") == "20:30"
    shot(page, "person")

    # clear a flag with an outcome and a note
    page.get_by_role("link", name="Flags").click()
    expect(page.get_by_text("I found a blister under my big toe")).to_be_visible()
    shot(page, "flags")
    page.get_by_label("Outcome").select_option("referred")
    page.get_by_label("Note").fill("Called Bo; podiatrist on Monday")
    page.get_by_role("button", name="Clear flag").click()
    expect(page.get_by_role("status")).to_contain_text(f"Cleared the flag ({OPERATOR}")
    assert svc.store.require(BO).flag_until is None

    # upload a CSV
    csv = tmp_path / "clinic.csv"
    csv.write_text("phone,name,time,confirmed\n+13125550170,Cy Diaz,20:30,yes\nnope,Di,,\n")
    start_worker(base_env)  # the import runs as a job on a worker
    page.get_by_role("link", name="Import").click()
    page.get_by_label("CSV file").set_input_files(str(csv))
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_role("status")).to_contain_text("imported 1, unchanged 0, failed 1")
    expect(page.get_by_role("table", name="Rows not imported")).to_contain_text("3")
    shot(page, "import")
    assert svc.store.require("+13125550170").name == "Cy Diaz"

    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    page.goto(base + "/console/people")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    for name in ("login", "tonight", "people", "person", "flags", "import"):
        assert (SHOTS / f"{name}.png").stat().st_size > 1000, name


def test_a_coordinator_prints_the_visit_report(web: tuple[str, Services], page: Any,
                                               tmp_path: Path) -> None:
    """The person page's "Print report" opens the one-page PDF; its first page is saved as
    var/screenshots/visit-report.png (pdftoppm) and its text has the person's figures."""
    need(shutil.which("pdftoppm") is not None, "pdftoppm (poppler-utils) is not installed")
    base, _svc = web
    page.goto(base + "/console")
    page.get_by_label("Email").fill(OPERATOR)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(base + f"/console/people/{ANA}")
    expect = sync_api.expect
    expect(page.get_by_role("heading", name="Ana Lima")).to_be_visible()
    with page.context.expect_event(
            "response", lambda r: r.url.split("?")[0].endswith("/report.pdf")) as opened:
        page.get_by_role("button", name="Print report").click()
    response = opened.value
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    pdf = tmp_path / "report.pdf"
    # Chromium shows it in its PDF viewer (the response body the page sees is the viewer's):
    # the same GET with the browser's own session cookie gives the bytes it prints.
    pdf.write_bytes(page.context.request.get(response.url).body())
    text = " ".join(subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True,
                                   text=True, check=True).stdout.split())
    assert "Ana Lima" in text
    assert "3 evenings they did the routine (texted DONE)" in text  # seed(): three DONEs
    assert "Lowest 3, highest 6, latest 6" in text  # 3, 4, then 6 yesterday
    subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile",
                    str(pdf), str(SHOTS / "visit-report")], check=True)
    assert (SHOTS / "visit-report.png").stat().st_size > 10_000
