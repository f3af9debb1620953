"""The console's send-now leaves an audit line naming the operator, and a login starts a new
session: a CSRF token handed out before the login does not work after it (no fixation)."""

from __future__ import annotations

import pytest

from reminders.app.people.preferences import Enrolment, enrol
from reminders.entry.web.app import create_app
from reminders.storage import consent_log
from reminders.wiring import Services
from tests.console_client import OPERATOR, Console, add_operator, logged_in

PHONE = "+13125550140"


@pytest.fixture
def person(console_services: Services) -> str:
    add_operator(console_services)
    sub = enrol(console_services.store, console_services.settings,
                Enrolment(phone=PHONE, name="Ana Lima", confirmed=True, time="20:00",
                          timezone="America/Chicago"))
    return sub.id


def test_send_now_writes_an_audit_line_naming_the_operator_and_the_outcome(
        console_services: Services, person: str) -> None:
    svc = console_services
    console = logged_in(create_app(svc))
    console.get(f"/console/people/{PHONE}")
    assert console.post(f"/console/people/{PHONE}/send-now").status_code == 302
    lines = [event for _, event in consent_log.export(svc.redis)
             if event.get("action") == "console_send_now"]
    assert len(lines) == 1, lines
    [line] = lines
    assert line["channel"] == "console" and line["source"] == "console"
    assert line["words"].startswith(f"{OPERATOR}: {person} sms: sent ("), line["words"]
    # The second press is audited too, with what it did (nothing: already sent).
    console.get(f"/console/people/{PHONE}")
    assert console.post(f"/console/people/{PHONE}/send-now").status_code == 302
    words = [event["words"] for _, event in consent_log.export(svc.redis)
             if event.get("action") == "console_send_now"]
    assert len(words) == 2 and "sms: already sent" in words[1], words


def test_a_csrf_token_from_before_the_login_is_refused_after_it(
        console_services: Services, person: str) -> None:
    svc = console_services
    console = Console(create_app(svc))
    console.get("/console/login")
    before_login = console.token
    assert before_login
    assert console.post("/console/login", {"email": OPERATOR,
                                           "password": "correct horse battery"}
                        ).status_code == 302
    # A token an attacker could have planted or read before the login: refused, no change.
    response = console.post(f"/console/people/{PHONE}", {"time": "21:00"}, csrf=before_login)
    assert response.status_code == 400 and "Form expired" in response.get_data(as_text=True)
    assert svc.store.require(PHONE).send_time.strftime("%H:%M") == "20:00"
    # The session's own new token works.
    console.get(f"/console/people/{PHONE}")
    assert console.token != before_login
    assert console.post(f"/console/people/{PHONE}", {"time": "21:00"}).status_code == 302
    assert svc.store.require(PHONE).send_time.strftime("%H:%M") == "21:00"
