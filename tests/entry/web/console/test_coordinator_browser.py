"""A coordinator's day in a real browser (headless Debian chromium, Playwright) against
`reminders web` in its own process: enrol a person (the double opt-in text goes out), invite a
caregiver, work the inbox (take an item, close it with an outcome and a note), ask the people
still pending. No shell. Screenshots under var/screenshots/ (not committed)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from reminders.wiring import Services
from tests.conftest import CeleryProcess
from tests.entry.web.console.test_console_browser import (
    OPERATOR,
    PASSWORD,
    page,
    shot,
    sync_api,
    web,
)

__all__ = ["page", "web"]  # the fixtures, shared with the console's first browser test
pytestmark = pytest.mark.slow
NEW = "+13125550177"


def test_a_coordinators_day(web: tuple[str, Services], page: Any, tmp_path: Path,
                            base_env: dict[str, str],
                            start_worker: Callable[..., CeleryProcess]) -> None:
    base, svc = web
    expect = sync_api.expect
    page.goto(base + "/console")
    page.get_by_label("Email").fill(OPERATOR)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Tonight")).to_be_visible()

    # enrol one person: Central time by its common name, in Spanish
    page.get_by_role("link", name="Enrol").click()
    page.get_by_label("Name").fill("Dora Vega")
    page.get_by_label("Mobile number").fill("(312) 555-0177")
    page.get_by_label("Time zone").select_option(label="Central (Chicago, Dallas)")
    page.get_by_label("Evening time").fill("19:30")
    page.get_by_label("Language").select_option("es")
    shot(page, "coordinator-enrol")
    page.get_by_role("button", name="Enrol and send the confirmation").click()
    expect(page.get_by_role("status")).to_contain_text("Enrolled; confirmation: asked 1")
    expect(page.get_by_role("heading", name="Dora Vega")).to_be_visible()
    dora = svc.store.require(NEW)
    assert (dora.sms_status, dora.timezone, dora.language) == ("pending", "America/Chicago",
                                                                "es")
    outbox = "".join(p.read_text() for p in Path(svc.settings.outbox_dir).glob("**/*")
                     if p.is_file())
    assert NEW in outbox  # the console SMS backend wrote the confirmation text

    # invite a caregiver from the person page
    page.get_by_label("Caregiver's number").fill("(312) 555-0178")
    page.get_by_label("Caregiver's name").fill("Luis")
    page.get_by_role("button", name="Invite caregiver").click()
    expect(page.get_by_role("status")).to_contain_text("Invited +13125550178")
    expect(page.locator("#caregiver")).to_contain_text("Luis")
    shot(page, "coordinator-person")

    # the inbox: Bo's blister waits; take it, then close it with an outcome and a note
    page.get_by_role("link", name="Inbox").click()
    expect(page.get_by_role("table", name="Inbox")).to_contain_text(
        "I found a blister under my big toe")
    shot(page, "coordinator-inbox")
    [item] = svc.reviews.inbox()
    page.get_by_role("button", name=f"Take item {item['id']}").click()
    expect(page.get_by_role("status")).to_contain_text(f"Item {item['id']} is yours")
    page.get_by_label("Outcome").select_option("reached")
    page.get_by_label("Note").fill("Called Bo; podiatry Monday, off his feet till then")
    page.get_by_role("button", name=f"Close item {item['id']}").click()
    expect(page.get_by_role("status")).to_contain_text("closed: reached")
    expect(page.get_by_role("table", name="Inbox")).to_contain_text("Nothing needs review")
    closed = svc.reviews.inbox(include_closed=True)[0]
    assert (closed["owner"], closed["outcome"]) == (OPERATOR, "reached")
    assert svc.store.require("+13125550161").flag_until is None  # Bo's flag closed with it

    # the people still pending: asked today already, so nobody is texted twice
    page.get_by_role("link", name="Pending").click()
    expect(page.get_by_role("table", name="Pending people")).to_contain_text("Dora Vega")
    start_worker(base_env)  # "send to all" is a job on a worker; its page shows the result
    page.get_by_role("button", name="Send to all 1 pending").click()
    expect(page.get_by_role("status")).to_contain_text("Done: asked 0, 1 already asked today")
    shot(page, "coordinator-pending")
