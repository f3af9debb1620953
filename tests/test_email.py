"""The email channel against a real SMTP server (aiosmtpd) and the real web app."""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from urllib.parse import parse_qs, urlparse
from zoneinfo import ZoneInfo

import pytest
import requests
from celery import Celery

from reminders.app.delivery import RetryLater
from reminders.app.preferences import Enrolment, enrol
from reminders.domain.subscriber import Subscriber
from reminders.entry.cli.runner import demo_zone
from reminders.wiring import Services
from testing.smtp import FakeSmtp
from testing.twilio_api import FakeTwilio
from tests.conftest import CeleryProcess, Cli, make_services
from tests.webhook_client import serve

PHONE = "+13125550142"
ADDRESS = "ana@example.org"
EVENING = date(2027, 1, 9)


@pytest.fixture
def fake_smtp() -> Iterator[FakeSmtp]:
    server = FakeSmtp().start()
    yield server
    server.stop()


@pytest.fixture
def email_env(twilio_env: dict[str, str], fake_smtp: FakeSmtp) -> dict[str, str]:
    return {**twilio_env, "EMAIL_BACKEND": "smtp", "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(fake_smtp.port),
            "SMTP_STARTTLS": "false", "EMAIL_FROM": "reminders@example.org"}


@pytest.fixture
def svc(email_env: dict[str, str]) -> Services:
    return make_services(email_env)


def subscribe(svc: Services, channel: str = "email", confirmed: bool = True) -> Subscriber:
    phone = PHONE if channel != "email" else None
    return enrol(svc.store, svc.settings, Enrolment(
        phone=phone, email=ADDRESS, name="Ana", timezone="America/Chicago", time="20:00",
        channel=channel, confirmed=confirmed), datetime(2027, 1, 1, tzinfo=UTC))


def due(sub: Subscriber) -> datetime:
    from reminders.domain.schedule import send_instant

    return send_instant(EVENING, sub.send_time, ZoneInfo(sub.timezone))


def parts(message: EmailMessage) -> tuple[str, str]:
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",))
    markup = message.get_body(("html",))
    assert text is not None and markup is not None
    return str(text.get_content()), html.unescape(str(markup.get_content()))


def unsubscribe_link(message: EmailMessage) -> str:
    header = str(message["List-Unsubscribe"])
    links = [part.strip(" <>") for part in header.split(",")]
    https = [link for link in links if link.startswith("https://")]
    mailto = [link for link in links if link.startswith("mailto:")]
    assert len(https) == 1 and len(mailto) == 1, header
    return https[0]


def test_nightly_email_structure_items_and_headers(svc: Services, fake_smtp: FakeSmtp) -> None:
    sub = subscribe(svc)
    assert svc.sender.deliver(sub.id, EVENING, due(sub)).channels == {"email": "sent"}
    [received] = fake_smtp.messages
    message = received.message
    assert received.rcpt_tos == [ADDRESS]
    assert message["To"] == ADDRESS and "reminders@example.org" in str(message["From"])
    assert message["Message-ID"] and message["Date"]
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text, markup = parts(message)
    selection = svc.renderer.tonight(sub, EVENING).selection
    for item in selection.items:
        assert item.text in text and item.text in markup
        assert item.why in text and item.why in markup
    assert message["Subject"] == svc.renderer.tonight(sub, EVENING).email.subject
    link = unsubscribe_link(message)
    assert link.startswith("https://reminders.example.org/unsubscribe?token=")
    token = parse_qs(urlparse(link).query)["token"][0]
    for part in token.split("."):  # opaque: no part decodes to the address
        payload = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
        assert ADDRESS.encode() not in payload and ADDRESS not in link


def test_one_click_post_stops_email_but_not_sms(svc: Services, fake_smtp: FakeSmtp,
                                                fake_twilio: FakeTwilio, email_env: dict[str, str],
                                                start_worker: Callable[..., CeleryProcess]) -> None:
    now = datetime.now(UTC)
    zone, local = demo_zone(now)
    sub = enrol(svc.store, svc.settings, Enrolment(
        phone=PHONE, email=ADDRESS, timezone=zone, time=local.strftime("%H:%M"),
        channel="both", confirmed=True))
    evening = now.astimezone(ZoneInfo(zone)).date()
    start_worker(email_env)
    Celery(broker=email_env["REDIS_URL"]).send_task("reminders.send_reminder",
                                                    args=[sub.id, evening.isoformat()])
    [mail] = fake_smtp.wait_for(1, timeout=30)
    [sms] = fake_twilio.wait_for_messages(1, timeout=30)
    tonight = svc.renderer.tonight(sub, evening)
    text, markup = parts(mail.message)
    for item, sms_text in zip(tonight.selection.items, tonight.sms.texts, strict=True):
        assert sms_text in sms.body and item.text in text and item.text in markup

    with serve(svc) as base:
        link = unsubscribe_link(mail.message).replace("https://reminders.example.org", base)
        page = requests.get(link, timeout=10)
        assert page.status_code == 200 and "Unsubscribe" in page.text
        assert svc.store.get(sub.id).email_status == "active"  # type: ignore[union-attr]
        done = requests.post(link, data={"List-Unsubscribe": "One-Click"}, timeout=10)
        assert done.status_code == 200
    shown = json.loads(Cli(email_env)("show", PHONE, "--json").stdout)
    assert shown["email_status"] == "unsubscribed" and shown["sms_status"] == "active"
    assert shown["next_send_utc"] is not None
    tomorrow = evening + timedelta(days=1)
    outcome = svc.sender.deliver(sub.id, tomorrow, datetime.now(UTC), ignore_late=True)
    assert outcome.channels == {"sms": "sent"}
    assert len(fake_smtp.messages) == 1 and len(fake_twilio.messages) == 2


@pytest.mark.parametrize("mangle", [lambda t: t[:-2] + ("AA" if t[-2:] != "AA" else "BB"),
                                    lambda t: "x" + t, lambda t: "", lambda t: t.split(".")[0]])
def test_a_tampered_token_is_a_400_and_changes_nothing(svc: Services, fake_smtp: FakeSmtp,
                                                       mangle: Callable[[str], str]) -> None:
    sub = subscribe(svc)
    svc.sender.deliver(sub.id, EVENING, due(sub))
    link = unsubscribe_link(fake_smtp.messages[0].message)
    token = parse_qs(urlparse(link).query)["token"][0]
    with serve(svc) as base:
        for method in ("GET", "POST"):
            response = requests.request(method, f"{base}/unsubscribe",
                                        params={"token": mangle(token)}, timeout=10)
            assert response.status_code == 400 and "not valid" in response.text
    assert svc.store.get(sub.id).email_status == "active"  # type: ignore[union-attr]


def test_transient_smtp_errors_are_retried_and_sent_once(svc: Services,
                                                         fake_smtp: FakeSmtp) -> None:
    sub = subscribe(svc)
    fake_smtp.refuse_next("451 4.3.0 Mailbox busy, try later")
    with pytest.raises(RetryLater):
        svc.sender.deliver(sub.id, EVENING, due(sub))
    assert fake_smtp.messages == []
    assert svc.sender.deliver(sub.id, EVENING, due(sub) + timedelta(minutes=1)).channels == {
        "email": "sent"}
    assert svc.sender.deliver(sub.id, EVENING, due(sub) + timedelta(minutes=2)).channels == {
        "email": "already sent"}
    assert len(fake_smtp.messages) == 1 and fake_smtp.attempts == 2


def test_a_dead_smtp_server_is_transient(email_env: dict[str, str], fake_smtp: FakeSmtp) -> None:
    from tests.conftest import free_port

    svc = make_services({**email_env, "SMTP_PORT": str(free_port()), "SMTP_TIMEOUT_SECONDS": "2"})
    sub = subscribe(svc)
    with pytest.raises(RetryLater):
        svc.sender.deliver(sub.id, EVENING, due(sub))


def test_permanent_smtp_error_marks_bouncing_and_stops_email(svc: Services, fake_smtp: FakeSmtp,
                                                             fake_twilio: FakeTwilio) -> None:
    sub = subscribe(svc, channel="both")
    fake_smtp.refuse_next("550 5.1.1 No such user here")
    outcome = svc.sender.deliver(sub.id, EVENING, due(sub))
    assert outcome.channels == {"sms": "sent", "email": "failed"}
    after = svc.store.get(sub.id)
    assert after is not None and after.email_status == "bouncing" and after.sms_status == "active"
    tomorrow = EVENING + timedelta(days=1)
    assert svc.sender.deliver(sub.id, tomorrow, due(sub) + timedelta(days=1)).channels == {
        "sms": "sent", "email": "skipped"}
    assert fake_smtp.attempts == 1 and len(fake_twilio.messages) == 2


def test_email_only_double_opt_in_by_link(email_env: dict[str, str], svc: Services,
                                          fake_smtp: FakeSmtp) -> None:
    cli = Cli(email_env)
    result = cli("subscribe", "--email", ADDRESS, "--channel", "email")
    assert result.returncode == 0, result.stderr
    shown = json.loads(cli("show", ADDRESS, "--json").stdout)
    assert shown["email_status"] == "pending" and shown["next_send_utc"] is None
    assert shown["phone"] is None and shown["sms_status"] == "none"
    [confirmation] = fake_smtp.wait_for(1)
    text, _ = parts(confirmation.message)
    link = next(word for word in text.split() if "/email/confirm?token=" in word)
    with serve(svc) as base:
        local = link.replace("https://reminders.example.org", base)
        assert requests.get(local, timeout=10).status_code == 200
        assert json.loads(cli("show", ADDRESS, "--json").stdout)["email_status"] == "pending"
        assert requests.post(local, timeout=10).status_code == 200
        tampered = requests.post(local[:-3] + "abc", timeout=10)
        assert tampered.status_code == 400
    shown = json.loads(cli("show", ADDRESS, "--json").stdout)
    assert shown["email_status"] == "active" and shown["next_send_utc"] is not None
    for command in (["preview", ADDRESS, "--json"], ["schedule", ADDRESS, "--json"],
                    ["set", ADDRESS, "time=21:00"]):
        assert cli(*command).returncode == 0, command


def test_console_email_backend_writes_eml(base_env: dict[str, str], tmp_path: object) -> None:
    from pathlib import Path

    svc = make_services(base_env)
    sub = subscribe(svc)
    assert svc.sender.deliver(sub.id, EVENING, due(sub)).channels == {"email": "sent"}
    [eml] = list(Path(base_env["OUTBOX_DIR"]).glob("email-*.eml"))
    assert b"List-Unsubscribe-Post: List-Unsubscribe=One-Click" in eml.read_bytes()
