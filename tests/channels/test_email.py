"""The email channel against a real SMTP server (aiosmtpd) and the real web app.

The server is set up as a mail provider's submission port, and the service with its default
settings: STARTTLS (the test's own certificate, trusted through SMTP_CA_FILE), then AUTH.
"""

from __future__ import annotations

import base64
import binascii
import email.utils
import html
import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import parse_qs, urlparse
from zoneinfo import ZoneInfo

import pytest
import requests
from celery import Celery

from reminders.app.evenings.nightly import RetryLater
from reminders.app.people.preferences import Enrolment, enrol
from reminders.domain.subscriber import Subscriber
from reminders.entry.cli.runner import demo_zone
from reminders.storage import nights
from reminders.wiring import Services
from testing.smtp import FakeSmtp
from testing.twilio_api import FakeTwilio
from tests.conftest import CeleryProcess, Cli, make_services
from tests.webhook_client import serve

PHONE = "+13125550142"
ADDRESS = "ana@example.org"
EVENING = date(2027, 1, 9)
SMTP_USER, SMTP_PASSWORD = "reminders@example.org", "app-password-1"


@pytest.fixture
def fake_smtp(tmp_path: Path) -> Iterator[FakeSmtp]:
    server = FakeSmtp.submission(tmp_path, SMTP_USER, SMTP_PASSWORD).start()
    yield server
    server.stop()


@pytest.fixture
def email_env(twilio_env: dict[str, str], fake_smtp: FakeSmtp) -> dict[str, str]:
    # SMTP_STARTTLS is left to its default (on); the port is the fake's, not 587, so that
    # parallel runs do not collide.
    return {**twilio_env, "EMAIL_BACKEND": "smtp", "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(fake_smtp.port), "SMTP_USERNAME": SMTP_USER,
            "SMTP_PASSWORD": SMTP_PASSWORD, "SMTP_CA_FILE": str(fake_smtp.cert_file),
            "EMAIL_FROM": "reminders@example.org"}


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


def raw_headers(raw: bytes) -> dict[bytes, list[bytes]]:
    """The header block exactly as it crossed the wire: name -> each occurrence, unfolded."""
    head, separator, _ = raw.partition(b"\r\n\r\n")
    assert separator, raw[:500]
    found: dict[bytes, list[bytes]] = {}
    for line in re.split(rb"\r\n(?![ \t])", head):
        name, colon, value = line.partition(b":")
        assert colon and re.fullmatch(rb"[!-9;-~]+", name), line  # a field name, nothing else
        found.setdefault(name.lower(), []).append(re.sub(rb"\r\n[ \t]+", b" ", value).strip())
    return found


def test_nightly_email_on_the_wire(svc: Services, fake_smtp: FakeSmtp) -> None:
    sub = subscribe(svc)
    assert svc.sender.deliver(sub.id, EVENING, due(sub)).channels == {"email": "sent"}
    [received] = fake_smtp.messages
    # The default settings: STARTTLS with a verified certificate, then AUTH, then the message.
    assert received.tls and received.login == SMTP_USER
    assert received.mail_from == "reminders@example.org" and received.rcpt_tos == [ADDRESS]
    raw = received.raw
    assert b"\n" not in raw.replace(b"\r\n", b"") and b"\r" not in raw.replace(b"\r\n", b"")
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))  # RFC 5322's hard limit
    headers = raw_headers(raw)
    for name in (b"from", b"to", b"subject", b"date", b"message-id", b"mime-version",
                 b"content-type", b"list-unsubscribe", b"list-unsubscribe-post"):
        assert len(headers.get(name, [])) == 1, (name, headers.get(name))
    head = raw.partition(b"\r\n\r\n")[0]
    head.decode("ascii")  # 8-bit text only ever travels encoded
    assert headers[b"to"] == [ADDRESS.encode()]
    assert re.fullmatch(rb"(.+ )?<reminders@example\.org>|reminders@example\.org",
                        headers[b"from"][0]), headers[b"from"]
    assert re.fullmatch(rb"<[!-=?-~]+@example\.org>", headers[b"message-id"][0])
    assert email.utils.parsedate_to_datetime(headers[b"date"][0].decode()).tzinfo is not None
    assert headers[b"mime-version"] == [b"1.0"]
    assert headers[b"content-type"][0].startswith(b"multipart/alternative;")
    assert headers[b"list-unsubscribe-post"] == [b"List-Unsubscribe=One-Click"]
    assert re.fullmatch(rb"<https://reminders\.example\.org/unsubscribe\?token=[^<>\s]+>, "
                        rb"<mailto:reminders@example\.org\?[^<>\s]+>",
                        headers[b"list-unsubscribe"][0]), headers[b"list-unsubscribe"]
    assert b"bcc" not in headers
    message = received.message
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
        try:
            payload = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
        except binascii.Error:  # not base64 (the subscriber id of nine digits): as it is
            payload = part.encode()
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
    # Every item is in the email; the SMS holds those that fit its budget (the tip often
    # goes by email only), each in its SMS wording.
    for item in tonight.selection.items:
        assert item.text in text and item.text in markup
    for sms_text in tonight.sms.texts:
        assert sms_text in sms.body
    assert len(tonight.sms.texts) == len(tonight.selection.sms_items) >= 3

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


def test_a_recipient_refused_at_rcpt_bounces_once(svc: Services, fake_smtp: FakeSmtp) -> None:
    sub = subscribe(svc)
    fake_smtp.refuse_recipient(ADDRESS, "550 5.1.1 <ana@example.org>: Recipient unknown")
    assert svc.sender.deliver(sub.id, EVENING, due(sub)).channels == {"email": "failed"}
    after = svc.store.get(sub.id)
    assert after is not None and after.email_status == "bouncing"
    assert nights.read(svc.redis, sub.id, EVENING)["email_error"] == "550"
    # No retry storm: the evening is over for this address, and so are the next ones.
    assert svc.sender.deliver(sub.id, EVENING, due(sub) + timedelta(minutes=5)).channels == {
        "email": "skipped"}
    assert nights.read(svc.redis, sub.id, EVENING)["email"] == "failed"
    tomorrow = EVENING + timedelta(days=1)
    assert svc.sender.deliver(sub.id, tomorrow, due(sub) + timedelta(days=1)).channels == {
        "email": "skipped"}
    assert [r.address for r in fake_smtp.rcpts] == [ADDRESS]
    assert fake_smtp.messages == [] and fake_smtp.attempts == 0


def test_a_mailbox_busy_at_rcpt_is_retried(svc: Services, fake_smtp: FakeSmtp) -> None:
    sub = subscribe(svc)
    fake_smtp.refuse_recipient(ADDRESS, "450 4.2.1 Mailbox busy, try again later")
    with pytest.raises(RetryLater):
        svc.sender.deliver(sub.id, EVENING, due(sub))
    fake_smtp.accept_recipient(ADDRESS)
    assert svc.sender.deliver(sub.id, EVENING, due(sub) + timedelta(minutes=1)).channels == {
        "email": "sent"}
    assert len(fake_smtp.rcpts) == 2 and len(fake_smtp.messages) == 1
    assert svc.store.get(sub.id).email_status == "active"  # type: ignore[union-attr]


def test_a_certificate_nobody_told_us_to_trust_is_refused(email_env: dict[str, str],
                                                          fake_smtp: FakeSmtp) -> None:
    svc = make_services({k: v for k, v in email_env.items() if k != "SMTP_CA_FILE"})
    sub = subscribe(svc)
    with pytest.raises(RetryLater, match="SSLCertVerificationError"):
        svc.sender.deliver(sub.id, EVENING, due(sub))
    assert fake_smtp.messages == [] and fake_smtp.rcpts == []  # nothing in the clear either
    assert svc.store.get(sub.id).email_status == "active"  # type: ignore[union-attr]


def test_a_refused_login_is_a_service_fault_not_the_persons(email_env: dict[str, str],
                                                            fake_smtp: FakeSmtp) -> None:
    svc = make_services({**email_env, "SMTP_PASSWORD": "rotated-yesterday"})
    sub = subscribe(svc)
    with pytest.raises(RetryLater, match="535"):
        svc.sender.deliver(sub.id, EVENING, due(sub))
    # The address is fine: it is not marked bouncing, and the evening can still go out once
    # the password is put right, within the late limit.
    assert svc.store.get(sub.id).email_status == "active"  # type: ignore[union-attr]
    assert nights.read(svc.redis, sub.id, EVENING)["email"] == "retry"
    fixed = make_services(email_env)
    assert fixed.sender.deliver(sub.id, EVENING, due(sub) + timedelta(minutes=1)).channels == {
        "email": "sent"}
    assert len(fake_smtp.messages) == 1


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


def test_console_email_backend_writes_eml(base_env: dict[str, str]) -> None:
    svc = make_services(base_env)
    sub = subscribe(svc)
    assert svc.sender.deliver(sub.id, EVENING, due(sub)).channels == {"email": "sent"}
    [eml] = list(Path(base_env["OUTBOX_DIR"]).glob("email-*.eml"))
    assert b"List-Unsubscribe-Post: List-Unsubscribe=One-Click" in eml.read_bytes()
