"""The console's inbox and a person's message history: what a coordinator reads and does,
through the web app (Flask's test client, a logged-in operator, real Redis)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from reminders.wiring import Services
from tests.console_client import OPERATOR, Console, console_with_person

PHONE = "+13125550140"


@pytest.fixture
def console(console_services: Services) -> Console:
    return console_with_person(console_services, PHONE)


def test_the_inbox_lists_what_needs_a_person_in_their_time(console: Console,
                                                          console_services: Services) -> None:
    svc = console_services
    svc.inbound(datetime.now(UTC)).handle(PHONE, "wat dis mean")
    svc.inbound(datetime.now(UTC)).handle(PHONE, "I want to die")
    svc.inbound(datetime.now(UTC)).handle(PHONE, "DONE")  # needs nobody: not listed
    page = console.get("/console/inbox").get_data(as_text=True)
    assert page.index("I want to die") < page.index("wat dis mean")  # crisis first
    assert "DONE" not in page.split("<tbody>")[1].split("</tbody>")[0]
    assert "988" in page  # what was replied
    assert ("CST" in page or "CDT" in page) and "needs review" in page and "Ana Lima" in page


def test_take_then_close_with_an_outcome_and_a_note(console: Console,
                                                    console_services: Services) -> None:
    svc = console_services
    svc.inbound(datetime.now(UTC)).handle(PHONE, "wat dis mean")
    [item] = svc.reviews.inbox()
    console.get("/console/inbox")
    assert console.post(f"/console/inbox/{item['id']}/take", {}).status_code == 302
    assert svc.reviews.inbox()[0]["owner"] == OPERATOR
    refused = console.post(f"/console/inbox/{item['id']}/close", {"note": "called"})
    assert refused.status_code == 302 and svc.reviews.inbox()[0]["state"] == "open"
    assert "Not closed: outcome must be one of" in console.get("/console/inbox").get_data(
        as_text=True)
    done = console.post(f"/console/inbox/{item['id']}/close",
                        {"outcome": "left_message", "note": "voicemail, will try tomorrow"})
    assert done.status_code == 302 and svc.reviews.inbox() == []
    handled = console.get("/console/inbox?all=1").get_data(as_text=True)
    assert "handled: left message" in handled and "voicemail, will try tomorrow" in handled
    figures = handled.split('aria-label="Loop figures"')[1].split("</table>")[0]
    assert "left message: 1" in figures  # closed by outcome, this week


def test_an_unknown_item_or_a_get_changes_nothing(console: Console,
                                                  console_services: Services) -> None:
    assert console.post("/console/inbox/999/take", {}).status_code == 302
    assert "Not taken: no review item" in console.get("/console/inbox").get_data(as_text=True)
    assert console.get("/console/inbox/1/close").status_code in (404, 405)


def test_the_person_page_shows_their_messages_in_and_out(console: Console,
                                                         console_services: Services) -> None:
    svc = console_services
    svc.inbound(datetime.now(UTC)).handle(PHONE, "blister on my heel")
    page = console.get(f"/console/people/{PHONE}").get_data(as_text=True)
    messages = page.split('aria-label="Messages"')[1].split("</table>")[0]
    assert "from them" in messages and "blister on my heel" in messages
    assert "to them" in messages and "foot clinic today" in messages
    assert "same_day: wound" in messages
    assert "flag: wound (same_day)" in page  # its review item
