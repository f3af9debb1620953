"""Tonight, as a coordinator works it: each person due shows their state, language and cause,
changed in place from their row (POST, CSRF, an audit line naming the operator; a bad value is
said on the page, the row kept as typed, nothing saved); times read in the person's own zone,
UTC only in the tooltip. The person page's consent history reads in their zone too."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from reminders.app.people.preferences import Enrolment, enrol
from reminders.entry.cli.runner import demo_zone
from reminders.entry.web.app import create_app
from reminders.wiring import Services
from tests.console_client import OPERATOR, Console, add_operator, logged_in
from tests.snapshot import differences, snapshot

ANA = "+13125550140"


@pytest.fixture
def console(console_services: Services) -> Console:
    add_operator(console_services)
    return logged_in(create_app(console_services))


def row_of(page: str, sub_id: str) -> str:
    start = page.index(f'<tr id="row-{sub_id}"')
    return page[start:page.index("</tr>", start)]


def visible(html: str) -> str:
    return re.sub(r"<[^>]*>", " ", html)


def test_a_tonight_row_shows_and_changes_state_language_and_cause(
        console: Console, console_services: Services) -> None:
    svc = console_services
    soon = (datetime.now(UTC) + timedelta(minutes=30)).replace(second=0, microsecond=0)
    zone, local = demo_zone(soon)
    ana = enrol(svc.store, svc.settings, Enrolment(
        phone=ANA, name="Ana Lima", confirmed=True, timezone=zone,
        time=local.strftime("%H:%M")))
    page = console.get("/console/").get_data(as_text=True)
    row = row_of(page, ana.id)
    shown = visible(row)
    assert f"{local:%H:%M}" in shown and "Z" not in shown.replace("Zone", "")  # their time
    assert re.search(r'title="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(UTC\)"', row)  # UTC: tooltip
    assert "active" in shown
    assert '<option value="en" selected>English</option>' in row
    assert '<option value="none" selected>none</option>' in row

    # A date nobody can read: said on the page, the row as typed, nothing saved or logged.
    before = snapshot(svc.redis)
    refused = console.post(f"/console/tonight/{ANA}", {
        "paused_until": "next tuesday", "language": "es", "cause": "diabetes", "page": "1"})
    body = refused.get_data(as_text=True)
    assert refused.status_code == 400 and 'role="alert">Not saved: ' in body
    assert "YYYY-MM-DD" in body and "Traceback" not in body
    bad_row = row_of(body, ana.id)
    assert 'aria-invalid="true"' in bad_row and 'value="next tuesday"' in bad_row
    assert '<option value="es" selected>' in bad_row  # what was chosen, kept to correct
    assert differences(before, snapshot(svc.redis)) == []

    # Language and cause from the row: saved, and the operator named in the audit trail.
    saved = console.post(f"/console/tonight/{ANA}", {
        "paused_until": "", "language": "es", "cause": "diabetes", "page": "1"})
    assert saved.status_code == 302 and saved.headers["Location"].endswith(f"#row-{ana.id}")
    after = svc.store.require(ANA)
    assert (after.language, after.cause, after.paused_until) == ("es", "diabetes", None)
    last = svc.store.consent_history(ana.id)[-1]
    assert last["words"] == f"{OPERATOR}: language=es cause=diabetes"
    page = console.get("/console/").get_data(as_text=True)
    assert "Saved: language, cause." in page
    row = row_of(page, ana.id)
    assert '<option value="es" selected>' in row and '<option value="diabetes" selected>' in row

    # Without the form's CSRF token nothing changes.
    forged = console.post(f"/console/tonight/{ANA}", {"language": "en"}, csrf="")
    assert forged.status_code == 400 and svc.store.require(ANA).language == "es"

    # A pause from the row: the state says until when (on Tonight while due, and on their page).
    until = (datetime.now(UTC) + timedelta(days=9)).date().isoformat()
    console.post(f"/console/tonight/{ANA}", {"paused_until": until, "language": "es",
                                             "cause": "diabetes"})
    assert str(svc.store.require(ANA).paused_until) == until
    person = console.get(f"/console/people/{ANA}").get_data(as_text=True)
    assert f"paused until {until}" in person

    # The consent history on the person's page: in their zone, UTC in the tooltip.
    history = person[person.index('aria-label="Consent history"'):]
    first_cell = history[history.index("<td>"):history.index("</td>")]
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d [A-Z+\-0-9]+</span>", first_cell), first_cell
    assert "(UTC)" in first_cell and "Z (UTC)" in first_cell
