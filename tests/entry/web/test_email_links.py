"""Email links on the wire: a plain-ASCII List-Unsubscribe, opaque tokens kept out of logs."""

from __future__ import annotations

import base64
import binascii
import logging
import re
import subprocess
import sys
import zlib
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import requests
from itsdangerous import URLSafeSerializer

from reminders.app.people.preferences import Enrolment, enrol
from reminders.domain.subscriber import Subscriber
from reminders.wiring import Services
from testing.smtp import FakeSmtp, Received
from tests.conftest import child_env, free_port, make_services, wait_until
from tests.outbox import token_of
from tests.webhook_client import serve

# Long enough that the header cannot fit in 78 characters (what made it an encoded-word).
ADDRESS = "ana.maria.lima-de-souza@example.org"
EVENING = date(2027, 1, 9)
TOKEN = rb"[A-Za-z0-9_.\-]{20,200}"


@pytest.fixture
def email_env(plain_email_env: dict[str, str]) -> dict[str, str]:
    return plain_email_env


@pytest.fixture
def svc(email_env: dict[str, str]) -> Services:
    return make_services(email_env)


def subscriber(svc: Services, confirmed: bool = True) -> Subscriber:
    return enrol(svc.store, svc.settings, Enrolment(
        email=ADDRESS, channel="email", timezone="America/Chicago", time="20:00",
        confirmed=confirmed))


def nightly(svc: Services, fake_smtp: FakeSmtp) -> Received:
    sub = subscriber(svc)
    svc.sender.deliver(sub.id, EVENING, datetime.now(UTC), ignore_late=True)
    [received] = fake_smtp.messages
    return received


def raw_header(raw: bytes, name: bytes) -> bytes:
    """One header exactly as it crossed the wire, continuation lines included."""
    match = re.search(rb"^" + name + rb":.*?\r\n(?![ \t])", raw, re.MULTILINE | re.DOTALL)
    assert match is not None, raw[:2000]
    return match.group(0)


def assert_opaque(token: str, address: str) -> None:
    """Neither the token nor any base64 (or zlib) reading of its parts shows the address."""
    assert address not in token and address.lower() not in token.lower()
    for part in token.split("."):
        try:
            decoded = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
        except (binascii.Error, ValueError):
            continue
        for candidate in (decoded, _inflate(decoded)):
            assert address.encode() not in candidate.lower(), (token, candidate)
            assert address.split("@")[0].encode() not in candidate.lower()


def _inflate(data: bytes) -> bytes:
    try:
        return zlib.decompress(data)
    except zlib.error:
        return b""


def test_list_unsubscribe_is_plain_ascii_on_the_wire(svc: Services, fake_smtp: FakeSmtp) -> None:
    raw = nightly(svc, fake_smtp).raw
    header = raw_header(raw, b"List-Unsubscribe")
    assert b"=?" not in header, header  # no RFC 2047 encoded-word
    header.decode("ascii")
    assert all(len(line) <= 998 for line in header.split(b"\r\n"))
    # Folded at the comma or not at all: the links themselves are never broken.
    assert re.fullmatch(
        rb"List-Unsubscribe: <https://reminders\.example\.org/unsubscribe\?token=(" + TOKEN
        + rb")>,(?:\r\n)? <mailto:reminders@example\.org\?subject=unsubscribe%20(" + TOKEN
        + rb")>\r\n", header), header
    assert raw_header(raw, b"List-Unsubscribe-Post") == (
        b"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n")


def test_link_tokens_are_opaque(svc: Services, fake_smtp: FakeSmtp) -> None:
    received = nightly(svc, fake_smtp)
    header = str(received.message["List-Unsubscribe"])
    links = re.findall(r"https://\S+?(?=>)", header)
    mailto = re.findall(r"subject=unsubscribe%20([^>]+)", header)
    assert len(links) == 1 and len(mailto) == 1
    assert_opaque(token_of(links[0]), ADDRESS)
    assert_opaque(mailto[0], ADDRESS)

    pending = enrol(svc.store, svc.settings, Enrolment(email="Bo.Rivera.Castillo@example.org",
                                                        channel="email"))
    assert svc.confirmations.mail(pending)
    text = str(fake_smtp.messages[-1].message.get_body(("plain",)).get_content())  # type: ignore
    [confirm] = re.findall(r"https://\S+/email/confirm\?token=\S+", text)
    assert_opaque(token_of(confirm), "bo.rivera.castillo@example.org")


def test_the_opaque_link_still_unsubscribes_that_address(svc: Services,
                                                          fake_smtp: FakeSmtp) -> None:
    header = str(nightly(svc, fake_smtp).message["List-Unsubscribe"])
    link = re.findall(r"https://\S+?(?=>)", header)[0]
    with serve(svc) as base:
        local = link.replace("https://reminders.example.org", base)
        page = requests.get(local, timeout=10)
        assert page.status_code == 200 and ADDRESS in page.text
        assert page.headers["Referrer-Policy"] == "no-referrer"
        assert requests.post(local, data={"List-Unsubscribe": "One-Click"},
                             timeout=10).status_code == 200
    assert svc.store.find(ADDRESS).email_status == "unsubscribed"  # type: ignore[union-attr]


def test_links_already_sent_in_the_old_format_keep_working(svc: Services) -> None:
    """Emails sent before the tokens became opaque carried the address, signed."""
    sub = subscriber(svc)
    old = URLSafeSerializer(svc.settings.secret_key, salt="unsubscribe").dumps(ADDRESS)
    with serve(svc) as base:
        assert requests.get(f"{base}/unsubscribe", params={"token": old},
                            timeout=10).status_code == 200
        assert svc.store.get(sub.id).email_status == "active"  # type: ignore[union-attr]
        assert requests.post(f"{base}/unsubscribe", params={"token": old},
                             timeout=10).status_code == 200
    assert svc.store.get(sub.id).email_status == "unsubscribed"  # type: ignore[union-attr]


def test_a_confirmation_link_confirms_only_the_address_it_was_sent_to(
    svc: Services, fake_smtp: FakeSmtp
) -> None:
    pending = subscriber(svc, confirmed=False)
    assert svc.confirmations.mail(pending)
    text = str(fake_smtp.messages[-1].message.get_body(("plain",)).get_content())  # type: ignore
    [confirm] = re.findall(r"https://\S+/email/confirm\?token=\S+", text)
    svc.store.save(pending, pending.with_changes(email="someone.else@example.org"))
    with serve(svc) as base:
        response = requests.post(confirm.replace("https://reminders.example.org", base),
                                 timeout=10)
        assert response.status_code == 404
    assert svc.store.get(pending.id).email_status == "pending"  # type: ignore[union-attr]


def test_werkzeug_access_log_masks_the_token(svc: Services, fake_smtp: FakeSmtp,
                                             caplog: pytest.LogCaptureFixture) -> None:
    header = str(nightly(svc, fake_smtp).message["List-Unsubscribe"])
    link = re.findall(r"https://\S+?(?=>)", header)[0]
    token = token_of(link)
    with caplog.at_level(logging.INFO, logger="werkzeug"), serve(svc) as base:
        assert requests.get(link.replace("https://reminders.example.org", base),
                            timeout=10).status_code == 200
        requests.post(f"{base}/email/confirm", params={"token": token}, timeout=10)
    access = [r.getMessage() for r in caplog.records if r.name == "werkzeug"]
    assert any("/unsubscribe?token=" in line for line in access), access
    assert not any(token in line or token[:12] in line for line in access), access


def test_gunicorn_access_log_masks_the_token(email_env: dict[str, str], svc: Services,
                                             fake_smtp: FakeSmtp, tmp_path: Path) -> None:
    header = str(nightly(svc, fake_smtp).message["List-Unsubscribe"])
    link = re.findall(r"https://\S+?(?=>)", header)[0]
    port, access = free_port(), tmp_path / "access.log"
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    proc = subprocess.Popen([gunicorn, "--bind", f"127.0.0.1:{port}", "--workers", "1",
                             "--access-logfile", str(access), "reminders.web:wsgi_app()"],
                            env=child_env(email_env), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _answers(base), 30, "gunicorn to serve")
        assert requests.get(link.replace("https://reminders.example.org", base),
                            timeout=10).status_code == 200
        wait_until(lambda: "/unsubscribe" in access.read_text(), 10, "the access log line")
    finally:
        proc.terminate()
        proc.wait(15)
    logged = access.read_text()
    assert "/unsubscribe?token=" in logged and token_of(link)[:12] not in logged, logged


def _answers(base: str) -> bool:
    try:
        return requests.get(base + "/healthz", timeout=2).status_code == 200
    except requests.RequestException:  # not up yet, or slow to answer on a loaded machine
        return False
