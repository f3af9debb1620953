"""A logged-in operator for console tests: Flask's test client, with the CSRF token each page
carries sent back on the next POST, as a browser sends the form's hidden field."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from reminders.app.console import operators
from reminders.app.people.preferences import Enrolment, enrol
from reminders.entry.web.app import create_app
from reminders.wiring import Services

OPERATOR = "nurse@example.org"
PASSWORD = "correct horse battery"
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def add_operator(svc: Services, email: str = OPERATOR, password: str = PASSWORD) -> None:
    operators.add(svc.store, email, password, datetime.now(UTC), by="test")


def csrf_of(html: str) -> str:
    found = _TOKEN.search(html)
    assert found, html[:500]
    return found.group(1)


class Console:
    def __init__(self, app: Flask) -> None:
        self.client: FlaskClient = app.test_client()
        self.token = ""

    def get(self, path: str, **kwargs: Any) -> TestResponse:
        response = self.client.get(path, **kwargs)
        if found := _TOKEN.search(response.get_data(as_text=True)):
            self.token = found.group(1)
        return response

    def post(self, path: str, data: dict[str, Any] | None = None, csrf: str | None = None,
             **kwargs: Any) -> TestResponse:
        """POST with the last page's token (`csrf` overrides it; "" sends none)."""
        token = self.token if csrf is None else csrf
        fields = dict(data or {})
        if token:
            fields["csrf_token"] = token
        return self.client.post(path, data=fields, **kwargs)

    def login(self, email: str = OPERATOR, password: str = PASSWORD) -> TestResponse:
        self.get("/console/login")
        return self.post("/console/login", {"email": email, "password": password})


def logged_in(app: Flask) -> Console:
    console = Console(app)
    response = console.login()
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    console.get("/console/")  # a login starts a new session: its own CSRF token
    return console


def console_with_person(svc: Services, phone: str, email: str | None = None) -> Console:
    """A logged-in operator's console and one confirmed person to act on (8 pm, Chicago)."""
    add_operator(svc)
    enrol(svc.store, svc.settings, Enrolment(phone=phone, email=email, name="Ana Lima",
                                             confirmed=True, time="20:00",
                                             timezone="America/Chicago"))
    return logged_in(create_app(svc))
