"""The console's doors: no page without a session, no POST without its CSRF token, a removed
operator logged out at once, failed logins limited, cookies locked down, names escaped."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import UTC, datetime

import pytest
from flask import Flask

from reminders.app.care import flags
from reminders.app.people.preferences import Enrolment, enrol
from reminders.entry.web.app import create_app
from reminders.settings import PROJECT_ROOT
from reminders.storage import keys
from reminders.wiring import Services
from tests.conftest import Cli, child_env
from tests.console_client import OPERATOR, PASSWORD, Console, add_operator, logged_in
from tests.snapshot import differences, snapshot

PHONE = "+13125550123"


@pytest.fixture
def app(console_services: Services) -> Flask:
    add_operator(console_services)
    enrol(console_services.store, console_services.settings,
          Enrolment(phone=PHONE, name="Ana", confirmed=True, time="20:00"))
    return create_app(console_services)


def console_rules(app: Flask) -> list[tuple[str, str]]:
    """(path, method) of every console route, converters filled with a real person."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/console"):
            continue
        path = re.sub(r"<(?:[^:<>]+:)?handle>", PHONE, rule.rule)
        found += [(path, m) for m in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})]
    assert {("/console/", "GET"), ("/console/people", "GET"), ("/console/flags", "GET"),
            ("/console/import", "POST"), ("/console/logout", "POST")} <= set(found)
    return found


def test_every_console_route_but_login_refuses_without_a_session(app: Flask,
                                                                console_services: Services
                                                                ) -> None:
    before = snapshot(console_services.redis)
    anonymous = Console(app)
    anonymous.get("/console/login")  # a CSRF token of its own: refused for want of a session
    for path, method in console_rules(app):
        if path == "/console/login":
            continue
        for console in (Console(app), anonymous):
            response = (console.client.get(path) if method == "GET" else
                        console.post(path, {"time": "21:00", "note": "x", "person": "x"}))
            body = response.get_data(as_text=True)
            if method == "GET":
                assert response.status_code == 302, (path, response.status_code)
                assert response.headers["Location"].startswith("/console/login?next="), path
            else:
                assert response.status_code in (400, 401), (path, response.status_code)
            assert "Ana" not in body, path
    assert not differences(before, snapshot(console_services.redis))


@pytest.mark.parametrize("csrf", ["", "wrong-token", "IjEyMyI.aGVsbG8.d3Jvbmc"])
def test_a_post_without_the_right_csrf_token_changes_nothing(app: Flask,
                                                             console_services: Services,
                                                             csrf: str) -> None:
    console = logged_in(app)
    console.get(f"/console/people/{PHONE}")
    before = snapshot(console_services.redis)
    for path, method in console_rules(app):
        if method == "POST":
            response = console.post(path, {"time": "21:00", "email": OPERATOR,
                                           "password": PASSWORD}, csrf=csrf)
            assert response.status_code == 400, (path, response.status_code)
            assert "Form expired" in response.get_data(as_text=True)
    assert not differences(before, snapshot(console_services.redis))
    # ... and the same POST with the page's own token does change it.
    assert console.post(f"/console/people/{PHONE}", {"time": "21:00"}).status_code == 302
    assert console_services.store.require(PHONE).send_time.strftime("%H:%M") == "21:00"


def test_an_operator_removed_from_the_cli_is_logged_out_at_the_next_request(
        app: Flask, cli: Cli) -> None:
    console = logged_in(app)
    assert console.get("/console/").status_code == 200
    result = cli("operator", "remove", OPERATOR)
    assert result.returncode == 0, result.stderr
    response = console.get("/console/")
    assert response.status_code == 302 and "/console/login" in response.headers["Location"]
    assert console.post("/console/people/" + PHONE, {"time": "22:00"}).status_code == 401


def test_a_new_password_ends_the_old_sessions_and_logout_ends_this_one(
        app: Flask, console_services: Services) -> None:
    first, second = logged_in(app), logged_in(app)
    assert second.post("/console/logout").status_code == 302
    assert second.get("/console/").status_code == 302
    assert first.get("/console/").status_code == 200  # only that session ended
    add_operator(console_services, password="another long password")
    assert first.get("/console/").status_code == 302


def test_failed_logins_are_limited_per_account_and_per_address(
        app: Flask, console_services: Services) -> None:
    console = Console(app)
    for _ in range(5):
        assert console.login(password="wrong password!").status_code == 401
    refused = console.login()  # the right password, too late
    assert refused.status_code == 401
    assert "Too many failed attempts" in refused.get_data(as_text=True)
    # Another address may still log in to another account, and this address to no other
    # once it has tried 20 of them.
    add_operator(console_services, "b@example.org")
    for n in range(20):
        console.login(f"guess{n}@example.org", "whatever it is")
    assert console.login("b@example.org", PASSWORD).status_code == 401
    other = Console(app)
    other.client.environ_base["REMOTE_ADDR"] = "10.0.0.9"
    assert other.login("b@example.org", PASSWORD).status_code == 302


def test_the_session_cookie_is_http_only_lax_and_secure_behind_https(
        twilio_services: Services) -> None:
    add_operator(twilio_services)
    app = create_app(twilio_services)
    response = Console(app).login()
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie, cookie
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    token_keys = list(twilio_services.redis.scan_iter(keys.console_session("*")))
    assert len(token_keys) == 1
    assert 8 * 3600 - 60 < twilio_services.redis.ttl(token_keys[0]) <= 8 * 3600


def test_names_and_texts_are_escaped(app: Flask, console_services: Services) -> None:
    svc = console_services
    evil = "<script>alert(1)</script>"
    sub = enrol(svc.store, svc.settings, Enrolment(phone="+13125550177", name=evil,
                                                   confirmed=True))
    svc.inbound(datetime.now(UTC)).handle(sub.phone or "", f"blister {evil}")
    assert flags.is_open(svc.store.require(sub.handle()), datetime.now(UTC))
    console = logged_in(app)
    for path in ("/console/", "/console/people?q=script", f"/console/people/{sub.phone}",
                 "/console/flags"):
        body = console.get(path).get_data(as_text=True)
        assert "<script>" not in body, path
    assert "&lt;script&gt;" in console.get("/console/flags").get_data(as_text=True)


def test_operator_commands(cli: Cli, base_env: dict[str, str]) -> None:
    def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "reminders", *args], cwd=PROJECT_ROOT,
                              env=child_env(base_env), input=stdin, capture_output=True,
                              text=True, timeout=60)

    added = run("operator", "add", "Nurse@Example.org", "--password-stdin",
                stdin="a long enough password\n")
    assert added.returncode == 0 and "added operator" in added.stdout, added.stderr
    listed = cli("operator", "list", "--json")
    assert '"email": "nurse@example.org"' in listed.stdout
    for bad in (("operator", "add", "not-an-email", "--password-stdin"),
                ("operator", "add", "x@example.org", "--password-stdin"),
                ("operator", "remove", "nobody@example.org")):
        result = run(*bad, stdin="short\n")
        assert result.returncode == 2, (bad, result.stdout, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert cli("operator", "remove", "nurse@example.org").returncode == 0
    assert "0 operator(s)" in cli("operator", "list").stdout


def test_a_bad_session_length_fails_at_start_naming_the_variable() -> None:
    from reminders.settings import ConfigError, load_settings

    for bad in ("0", "eight", "10000"):
        with pytest.raises(ConfigError, match="CONSOLE_SESSION_HOURS"):
            load_settings({"CONSOLE_SESSION_HOURS": bad}, dotenv=False)


def _cookie_text(console: Console) -> str:
    """What anyone holding the session cookie can read (it is signed, not encrypted)."""
    import base64
    import zlib

    cookie = console.client.get_cookie("console_session", path="/console")
    cookie = cookie or console.client.get_cookie("console_session")
    assert cookie is not None
    payload = cookie.value.lstrip(".").split(".")[0]
    raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    return (zlib.decompress(raw) if cookie.value.startswith(".") else raw).decode()


def test_flash_messages_name_no_person_in_the_cookie(app: Flask,
                                                     console_services: Services) -> None:
    console = logged_in(app)
    console.get(f"/console/people/{PHONE}")
    response = console.post(f"/console/people/{PHONE}",
                            {"name": "Zelda Quartz", "phone": "+13125550124"})
    assert response.status_code == 302
    text = _cookie_text(console)
    assert "Saved: name, phone" in text
    assert "Zelda" not in text and "3125550124" not in text and "3125550123" not in text
    page = console.get("/console/people/+13125550124").get_data(as_text=True)
    assert "Saved: name, phone." in page


@pytest.mark.parametrize("target", ["/console/%0d%0aSet-Cookie:x=1", "/console/\x7f",
                                    "/console/%0aLocation:%20https://evil.example"])
def test_next_with_control_characters_goes_to_the_start_page(app: Flask, target: str) -> None:
    console = Console(app)
    console.get("/console/login")
    from urllib.parse import unquote

    response = console.post("/console/login", {"email": OPERATOR, "password": PASSWORD,
                                                "next": unquote(target)})
    assert response.status_code == 302
    assert response.headers["Location"] == "/console/"
    assert all("\n" not in v and "\r" not in v for v in response.headers.values())
    assert "evil" not in str(response.headers) and "x=1" not in str(response.headers)


def test_the_email_pages_are_not_cached_or_framed(twilio_services: Services) -> None:
    client = create_app(twilio_services).test_client()
    for path in ("/unsubscribe?token=x", "/email/confirm?token=x", "/unsubscribe"):
        response = client.get(path)
        assert response.headers["Cache-Control"] == "no-store", path
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Frame-Options"] == "DENY"


def test_the_access_log_masks_numbers_and_addresses_in_searches(
        app: Flask, console_services: Services, caplog: pytest.LogCaptureFixture) -> None:
    import logging

    import requests

    from tests.webhook_client import serve

    with caplog.at_level(logging.INFO, logger="werkzeug"), serve(console_services) as base:
        for query in ("%2B13125550123", "+13125550123", "(312)%20555-0123",
                      "ana.lima%40example.org", "ana.lima@example.org"):
            requests.get(f"{base}/console/people?q={query}", timeout=10)
    access = [r.getMessage() for r in caplog.records if r.name == "werkzeug"]
    assert sum("/console/people?q=" in line for line in access) >= 3, access
    for line in access:
        assert "5550123" not in line and "555-0123" not in line and "ana.lima" not in line, line
