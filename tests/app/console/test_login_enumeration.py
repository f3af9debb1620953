"""No operator enumeration: a login for an account that does not exist is answered exactly as a
wrong password for one that does (status, page, headers, what Redis counts), and it checks the
password against a hash of the same Argon2 cost as a real account's, so it costs the same work.
The time itself is not asserted (a shared machine's clock says nothing); the work is the same
by construction, and the parameters that set it are compared."""

from __future__ import annotations

import re

from argon2 import extract_parameters
from flask import Flask

from reminders.app.console import operators
from reminders.entry.web.app import create_app
from reminders.storage import operators as operator_store
from reminders.wiring import Services
from tests.console_client import OPERATOR, Console, add_operator

_TOKEN = re.compile(r'value="[^"]{20,}"')


def attempt(app: Flask, email: str) -> tuple[int, str, list[str]]:
    console = Console(app)
    console.get("/console/login")
    response = console.post("/console/login", {"email": email, "password": "wrong password!"})
    body = _TOKEN.sub('value="…"', response.get_data(as_text=True)).replace(email, "EMAIL")
    varying = ("Set-Cookie", "Content-Length")  # (the address typed is shown again)
    headers = sorted(f"{k}: {v}" for k, v in response.headers.items() if k not in varying)
    return response.status_code, body, headers


def test_an_unknown_account_is_answered_as_a_wrong_password(console_services: Services) -> None:
    svc = console_services
    add_operator(svc)
    app = create_app(svc)
    known = attempt(app, OPERATOR)
    unknown = attempt(app, "nobody@example.org")
    assert known == unknown
    assert "Wrong email or password." in known[1], known[:2]
    # Both counted, the same way: an attacker learns nothing from when the limit starts.
    counts = {key: int(svc.redis.get(key) or 0)
              for key in svc.redis.keys("fc:console:fail:account:*")}
    assert sorted(counts.values()) == [1, 1], counts


def test_the_stand_in_hash_costs_what_a_real_one_costs(console_services: Services) -> None:
    add_operator(console_services)
    record = operator_store.get(console_services.redis, OPERATOR)
    assert record is not None
    assert extract_parameters(operators._dummy_hash()) == extract_parameters(
        record.password_hash)
