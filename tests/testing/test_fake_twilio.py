"""Proves FakeTwilio looks like api.twilio.com to the real twilio-python 9.x client.

Every test goes through ``twilio.rest.Client`` with only the base URL redirected, so what passes
here is what the service will see: request encoding, Basic auth, error parsing into
``TwilioRestException``, resource deserialisation and paging.
"""

from __future__ import annotations

import base64
import json
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from testing.twilio_api import FakeTwilio, count_segments

TWILIO_API = "https://api.twilio.com"
TO = "+15005550006"
OTHER_TO = "+15005550007"
FROM = "+15005550001"
SERVICE_SID = "MG" + "a" * 32


class RedirectingHttpClient(TwilioHttpClient):
    """The stock requests-based client, pointed at the fake instead of api.twilio.com."""

    def __init__(self, base_url: str, timeout: float | None = None) -> None:
        super().__init__(timeout=timeout)
        self.base_url = base_url.rstrip("/")

    def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        # Paging follows absolute api.twilio.com URLs too, so rewrite here, not in the fixture.
        if url.startswith(TWILIO_API):
            url = self.base_url + url[len(TWILIO_API) :]
        return super().request(
            method,
            url,
            params=params,
            data=data,
            headers=headers,
            auth=auth,
            timeout=timeout,
            allow_redirects=allow_redirects,
        )


def make_client(
    fake: FakeTwilio,
    *,
    username: str | None = None,
    password: str | None = None,
    account_sid: str | None = None,
    timeout: float | None = None,
) -> Client:
    return Client(
        username or fake.account_sid,
        password or fake.auth_token,
        account_sid=account_sid,
        http_client=RedirectingHttpClient(fake.url, timeout=timeout),
    )


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    with FakeTwilio() as server:
        yield server


@pytest.fixture
def client(fake: FakeTwilio) -> Client:
    return make_client(fake)


def raw_post(fake: FakeTwilio, form: dict[str, str]) -> tuple[int, dict[str, str], Any]:
    """A bare urllib POST, to see headers twilio-python does not expose on errors."""
    url = f"{fake.url}/2010-04-01/Accounts/{fake.account_sid}/Messages.json"
    token = base64.b64encode(f"{fake.account_sid}:{fake.auth_token}".encode()).decode()
    request = urllib.request.Request(
        url,
        data=urllib.parse.urlencode(form).encode(),
        headers={"Authorization": f"Basic {token}"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers.items()), json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers.items()), json.load(exc)


# --- create ------------------------------------------------------------------------------------


def test_create_returns_twilio_resource_and_records_request(
    fake: FakeTwilio, client: Client
) -> None:
    callback = "https://service.example/twilio/status"
    message = client.messages.create(
        to=TO, from_=FROM, body="Check your feet tonight", status_callback=callback
    )

    assert message.sid is not None and message.sid.startswith("SM") and len(message.sid) == 34
    assert message.status == "queued"
    assert message.num_segments == "1"
    assert message.num_media == "0"
    assert message.to == TO and message.from_ == FROM
    assert message.direction == "outbound-api"
    assert message.account_sid == fake.account_sid
    assert isinstance(message.date_created, datetime)  # RFC 2822 parsed by twilio-python
    assert message.date_sent is None and message.price is None and message.error_code is None
    assert message.uri == f"/2010-04-01/Accounts/{fake.account_sid}/Messages/{message.sid}.json"

    [recorded] = fake.wait_for_messages(1)
    assert recorded.sid == message.sid
    assert (recorded.to, recorded.from_, recorded.body) == (TO, FROM, "Check your feet tonight")
    assert recorded.status_callback == callback
    assert recorded.num_segments == 1
    assert recorded.raw_form["StatusCallback"] == callback
    expected_auth = base64.b64encode(f"{fake.account_sid}:{fake.auth_token}".encode()).decode()
    assert recorded.headers["Authorization"] == f"Basic {expected_auth}"
    assert fake.messages_to(TO) == [recorded]
    assert fake.messages_to(OTHER_TO) == []


def test_messaging_service_message_is_accepted_without_from(
    fake: FakeTwilio, client: Client
) -> None:
    message = client.messages.create(to=TO, messaging_service_sid=SERVICE_SID, body="hi")

    assert message.status == "accepted"
    assert message.from_ is None
    assert message.messaging_service_sid == SERVICE_SID
    assert fake.messages[0].messaging_service_sid == SERVICE_SID


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"to": "", "from_": FROM, "body": "x"}, 21604),
        ({"to": TO, "from_": FROM}, 21602),
        ({"to": TO, "body": "x"}, 21603),
    ],
)
def test_validation_errors_are_twilio_shaped(
    fake: FakeTwilio, client: Client, kwargs: dict[str, str], code: int
) -> None:
    with pytest.raises(TwilioRestException) as excinfo:
        client.messages.create(**kwargs)

    assert excinfo.value.status == 400
    assert excinfo.value.code == code
    assert fake.messages == []
    assert [r.status_code for r in fake.message_attempts()] == [400]


# --- auth --------------------------------------------------------------------------------------


def test_wrong_token_is_401_with_code_20003(fake: FakeTwilio) -> None:
    client = make_client(fake, password="wrong-token")

    with pytest.raises(TwilioRestException) as excinfo:
        client.messages.create(to=TO, from_=FROM, body="x")

    assert excinfo.value.status == 401
    assert excinfo.value.code == 20003
    assert fake.messages == []
    assert fake.requests_log[-1].status_code == 401


def test_url_account_must_match_credentials(fake: FakeTwilio) -> None:
    other_account = "AC" + "9" * 32
    fake.add_api_key("SK" + "1" * 32, "key-secret")
    # An API key authenticates, but only for the account it belongs to.
    client = make_client(
        fake, username="SK" + "1" * 32, password="key-secret", account_sid=other_account
    )

    with pytest.raises(TwilioRestException) as excinfo:
        client.messages.create(to=TO, from_=FROM, body="x")
    assert (excinfo.value.status, excinfo.value.code) == (404, 20404)

    client = make_client(
        fake, username="SK" + "1" * 32, password="key-secret", account_sid=fake.account_sid
    )
    assert client.messages.create(to=TO, from_=FROM, body="x").status == "queued"


@pytest.mark.parametrize("username, password", [
    ("SK" + "1" * 32, "test-token"),  # a key with the account's token: not its secret
    ("SK" + "2" * 32, "test-token"),  # an unknown key
    ("SK" + "1" * 32, "key-secret-but-longer"),
    ("AC" + "0123456789abcdef" * 2, "key-secret"),  # the account with a key's secret
])
def test_credentials_are_checked_exactly(fake: FakeTwilio, username: str, password: str
                                         ) -> None:
    fake.add_api_key("SK" + "1" * 32, "key-secret")
    client = make_client(fake, username=username, password=password,
                         account_sid=fake.account_sid)
    with pytest.raises(TwilioRestException) as excinfo:
        client.messages.create(to=TO, from_=FROM, body="x")
    assert (excinfo.value.status, excinfo.value.code) == (401, 20003)
    assert fake.messages == []


# --- faults ------------------------------------------------------------------------------------


def test_429_with_retry_after(fake: FakeTwilio, client: Client) -> None:
    fake.fail_next(http_status=429, code=20429, retry_after=7)
    with pytest.raises(TwilioRestException) as excinfo:
        client.messages.create(to=TO, from_=FROM, body="x")
    assert (excinfo.value.status, excinfo.value.code) == (429, 20429)

    # twilio-python hides response headers on errors, so check Retry-After on the wire.
    fake.fail_next(http_status=429, retry_after=7)
    status, headers, body = raw_post(fake, {"To": TO, "From": FROM, "Body": "x"})
    assert status == 429
    assert headers["Retry-After"] == "7"
    assert body == {
        "code": 20429,
        "message": "Too Many Requests",
        "more_info": "https://www.twilio.com/docs/errors/20429",
        "status": 429,
    }
    assert fake.messages == []
    assert [r.fault for r in fake.message_attempts()] == ["fail", "fail"]


def test_faults_are_consumed_in_order(fake: FakeTwilio, client: Client) -> None:
    fake.fail_next(1, http_status=500)
    fake.fail_next(1, http_status=503)

    for expected in (500, 503):
        with pytest.raises(TwilioRestException) as excinfo:
            client.messages.create(to=TO, from_=FROM, body="x")
        assert excinfo.value.status == expected
        assert excinfo.value.code is None  # Twilio 5xx bodies carry "code": null

    assert client.messages.create(to=TO, from_=FROM, body="x").status == "queued"
    assert [r.status_code for r in fake.message_attempts()] == [500, 503, 201]


@pytest.mark.parametrize("code", [21610, 21211, 21614])
def test_rejected_number_surfaces_twilio_code(fake: FakeTwilio, client: Client, code: int) -> None:
    fake.reject_number(TO, code)

    with pytest.raises(TwilioRestException) as excinfo:
        client.messages.create(to=TO, from_=FROM, body="x")
    assert (excinfo.value.status, excinfo.value.code) == (400, code)

    assert client.messages.create(to=OTHER_TO, from_=FROM, body="x").status == "queued"
    assert [m.to for m in fake.messages] == [OTHER_TO]

    fake.clear_faults()
    assert client.messages.create(to=TO, from_=FROM, body="x").status == "queued"


def test_set_down_answers_503_to_everything(fake: FakeTwilio, client: Client) -> None:
    fake.set_down(True)
    with pytest.raises(TwilioRestException) as excinfo:
        client.messages.create(to=TO, from_=FROM, body="x")
    assert excinfo.value.status == 503
    # twilio-python raises the base TwilioException (not the REST one) for a failed page.
    with pytest.raises(TwilioException, match="Unable to fetch page"):
        client.messages.list()

    fake.set_down(False)
    assert client.messages.create(to=TO, from_=FROM, body="x").status == "queued"
    assert [r.fault for r in fake.requests_log] == ["down", "down", None]


def test_hang_makes_client_time_out_but_message_is_accepted(fake: FakeTwilio) -> None:
    client = make_client(fake, timeout=1)
    fake.hang_next(1, seconds=2.5)

    with pytest.raises(requests.exceptions.Timeout):
        client.messages.create(to=TO, from_=FROM, body="maybe sent")

    # The client gave up before the fake answered (no status yet): the attempt is visible at
    # once, the message only when the "lost" answer is produced.
    assert len(fake.message_attempts()) == 1
    assert fake.message_attempts()[0].status_code is None
    [message] = fake.wait_for_messages(1, timeout=5)
    assert message.body == "maybe sent"
    assert fake.message_attempts()[0].fault == "hang"


def test_answer_late_accepts_at_once_and_answers_after_the_timeout(fake: FakeTwilio) -> None:
    client = make_client(fake, timeout=1)
    fake.answer_late_next(1, seconds=2.5)

    with pytest.raises(requests.exceptions.Timeout):
        client.messages.create(to=TO, from_=FROM, body="accepted, answer lost")
    [message] = fake.messages  # committed before the client gave up
    assert (message.body, message.status, message.sent_at) == (
        "accepted, answer lost", "queued", None)
    assert fake.message_attempts()[0].fault in (None, "late")  # answered (late) or not yet


def test_hang_without_accept_answers_503(fake: FakeTwilio, client: Client) -> None:
    fake.hang_next(1, seconds=0.3, then_accept=False)

    with pytest.raises(TwilioRestException) as excinfo:
        client.messages.create(to=TO, from_=FROM, body="x")

    assert excinfo.value.status == 503
    assert fake.messages == []


def test_wait_for_messages_times_out_with_a_useful_message(fake: FakeTwilio) -> None:
    with pytest.raises(AssertionError, match="expected at least 1 message"):
        fake.wait_for_messages(1, timeout=0.1)


def test_stop_drops_keep_alive_connections_and_restart_keeps_url(
    fake: FakeTwilio, client: Client
) -> None:
    client.messages.create(to=TO, from_=FROM, body="x")
    url = fake.url

    fake.stop()
    with pytest.raises(requests.exceptions.ConnectionError):
        client.messages.create(to=TO, from_=FROM, body="x")

    fake.start()
    assert fake.url == url
    assert client.messages.create(to=TO, from_=FROM, body="x").status == "queued"


# --- read --------------------------------------------------------------------------------------


def test_list_filters_by_recipient_and_date_sent(fake: FakeTwilio, client: Client) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    yesterday = now - timedelta(days=1)
    fake.clock = lambda: yesterday
    old = client.messages.create(to=TO, from_=FROM, body="old")
    fake.set_status(old.sid, "delivered")
    fake.clock = lambda: now
    new = client.messages.create(to=TO, from_=FROM, body="new")
    other = client.messages.create(to=OTHER_TO, from_=FROM, body="other")
    for sid in (new.sid, other.sid):
        fake.set_status(sid, "sent")

    assert [m.sid for m in client.messages.list(to=TO)] == [new.sid, old.sid]  # newest first
    after = client.messages.list(to=TO, date_sent_after=now - timedelta(hours=1))
    assert [m.sid for m in after] == [new.sid]
    before = client.messages.list(date_sent_before=yesterday + timedelta(minutes=1))
    assert [m.sid for m in before] == [old.sid]
    assert [m.body for m in client.messages.list(from_=FROM, date_sent=now)] == ["other", "new"]

    # twilio-python sends the bounds as "DateSent>" / "DateSent<" keys.
    list_queries = [r.query for r in fake.requests_log if r.method == "GET"]
    assert "DateSent>" in list_queries[1] and "DateSent<" in list_queries[2]


def test_date_sent_filters_compare_days_and_skip_unsent_messages(fake: FakeTwilio,
                                                                 client: Client) -> None:
    """Twilio fills date_sent at the carrier hand-off; DateSent filters compare dates only."""
    morning = datetime.now(UTC).replace(hour=8, minute=0, second=0, microsecond=0)
    fake.clock = lambda: morning
    sent = client.messages.create(to=TO, from_=FROM, body="sent this morning")
    fake.set_status(sent.sid, "sent")
    queued = client.messages.create(to=TO, from_=FROM, body="still queued")
    accepted = client.messages.create(to=TO, messaging_service_sid=SERVICE_SID, body="picking")
    assert (queued.status, accepted.status) == ("queued", "accepted")

    # An hour after the hand-off, still the same day: a timestamp bound keeps only its date.
    later = client.messages.list(to=TO, date_sent_after=morning + timedelta(hours=1))
    assert [m.sid for m in later] == [sent.sid]
    assert [m.sid for m in client.messages.list(to=TO, date_sent=morning)] == [sent.sid]
    # Without a DateSent filter every message is listed, the unsent ones after the sent one.
    assert [m.sid for m in client.messages.list(to=TO)] == [sent.sid, accepted.sid, queued.sid]
    assert [m.date_sent for m in client.messages.list(to=TO)][1:] == [None, None]

    fake.set_status(queued.sid, "failed", error_code=30001)  # never handed to a carrier
    fake.set_status(accepted.sid, "delivered")
    assert [m.sid for m in client.messages.list(to=TO, date_sent=morning)] == [
        accepted.sid, sent.sid]


def test_list_lag_hides_new_messages_from_the_list_only(fake: FakeTwilio,
                                                        client: Client) -> None:
    now = datetime.now(UTC)
    fake.clock = lambda: now
    fake.set_list_lag(60)
    created = client.messages.create(to=TO, from_=FROM, body="x")

    assert client.messages.list(to=TO) == []
    assert client.messages(created.sid).fetch().sid == created.sid
    fake.clock = lambda: now + timedelta(seconds=61)
    assert [m.sid for m in client.messages.list(to=TO)] == [created.sid]


def test_list_pages_through_next_page_uri(fake: FakeTwilio, client: Client) -> None:
    sids = [client.messages.create(to=TO, from_=FROM, body=f"m{i}").sid for i in range(5)]

    listed = client.messages.list(page_size=2)

    assert [m.sid for m in listed] == list(reversed(sids))
    assert len([r for r in fake.requests_log if r.method == "GET"]) == 3


def test_fetch_and_status_dates(fake: FakeTwilio, client: Client) -> None:
    created = client.messages.create(to=TO, from_=FROM, body="x")

    fetched = client.messages(created.sid).fetch()
    assert (fetched.sid, fetched.status, fetched.date_sent) == (created.sid, "queued", None)

    fake.clock = lambda: created.date_created + timedelta(minutes=3)  # the hand-off lags
    fake.set_status(created.sid, "delivered")
    fetched = client.messages(created.sid).fetch()
    assert fetched.status == "delivered"
    assert fetched.date_sent == fetched.date_created + timedelta(minutes=3)

    with pytest.raises(TwilioRestException) as excinfo:
        client.messages("SM" + "0" * 32).fetch()
    assert (excinfo.value.status, excinfo.value.code) == (404, 20404)


# --- segments ----------------------------------------------------------------------------------


def test_ucs2_body_counts_utf16_segments(fake: FakeTwilio, client: Client) -> None:
    body = "a" * 70 + "\N{GRINNING FACE}"  # 71 characters, 72 UTF-16 code units
    message = client.messages.create(to=TO, from_=FROM, body=body)

    assert message.num_segments == "2"
    assert fake.messages[0].num_segments == 2


@pytest.mark.parametrize(
    ("body", "segments"),
    [
        ("", 1),
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("€" * 80, 1),  # extension characters cost two septets
        ("€" * 81, 2),
        ("a" * 152 + "[" + "a" * 10, 2),  # an escape pair is never split across segments
        ("é" * 160, 1),  # é is in the GSM-7 basic set
        ("ê" * 70, 1),  # ê is not: UCS-2
        ("ê" * 71, 2),
        ("ê" * 134, 2),
        ("ê" * 135, 3),
        ("a" * 69 + "\N{GRINNING FACE}", 2),  # 70 chars but 71 code units
        ("a" * 66 + "\N{GRINNING FACE}" + "a" * 3, 2),  # surrogate pair kept together
    ],
)
def test_count_segments(body: str, segments: int) -> None:
    assert count_segments(body) == segments


# --- webhooks ----------------------------------------------------------------------------------


class WebhookReceiver:
    """A stand-in for the service's webhook endpoint that checks Twilio signatures."""

    def __init__(self, auth_token: str) -> None:
        self.auth_token = auth_token
        self.received: list[tuple[str, dict[str, str], bool]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                params = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
                url = f"http://127.0.0.1:{receiver.port}{self.path}"
                valid = RequestValidator(receiver.auth_token).validate(
                    url, params, self.headers.get("X-Twilio-Signature", "")
                )
                receiver.received.append((self.path, params, valid))
                body = b"<Response/>" if valid else b"bad signature"
                self.send_response(200 if valid else 403)
                self.send_header("Content-Type", "text/xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@pytest.fixture
def receiver(fake: FakeTwilio) -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver(fake.auth_token)
    receiver.thread.start()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


def test_post_status_sends_a_valid_signed_callback(
    fake: FakeTwilio, client: Client, receiver: WebhookReceiver
) -> None:
    callback = receiver.url("/twilio/status?attempt=1")
    message = client.messages.create(to=TO, from_=FROM, body="x", status_callback=callback)

    assert fake.post_status(message.sid, "delivered") == 200
    assert fake.post_status(message.sid, "undelivered", error_code=30003) == 200

    (path, params, valid), (_, failed, failed_valid) = receiver.received
    assert valid and failed_valid
    assert path == "/twilio/status?attempt=1"
    assert params == {
        "MessageSid": message.sid,
        "MessageStatus": "delivered",
        "SmsSid": message.sid,
        "SmsStatus": "delivered",
        "AccountSid": fake.account_sid,
        "To": TO,
        "From": FROM,
        "ApiVersion": "2010-04-01",
    }
    assert failed["MessageStatus"] == "undelivered" and failed["ErrorCode"] == "30003"
    assert client.messages(message.sid).fetch().error_code == 30003


def test_post_signed_simulates_inbound_sms(fake: FakeTwilio, receiver: WebhookReceiver) -> None:
    inbound = {"MessageSid": "SM" + "b" * 32, "From": TO, "To": FROM, "Body": "STOP"}

    status, body, headers = fake.post_signed(receiver.url("/twilio/inbound"), inbound)
    assert (status, body, headers["Content-Type"]) == (200, "<Response/>", "text/xml")

    status, body, _ = fake.post_signed(receiver.url("/twilio/inbound"), inbound, "other-token")
    assert (status, body) == (403, "bad signature")


# --- performance and stand-alone mode ----------------------------------------------------------


def test_sequential_throughput_over_keep_alive(fake: FakeTwilio, client: Client) -> None:
    count = 300
    started = time.perf_counter()
    for i in range(count):
        client.messages.create(to=TO, from_=FROM, body=f"reminder {i}")
    elapsed = time.perf_counter() - started

    assert len(fake.messages) == count
    # Informational only: without TCP_NODELAY/single writes this drops to ~25 req/s.
    print(f"\nFakeTwilio: {count} sequential creates in {elapsed:.2f}s = {count / elapsed:.0f}/s")


def test_runs_as_a_separate_process(tmp_path: Path) -> None:
    ready, log = tmp_path / "url", tmp_path / "sent.jsonl"
    account_sid, token = "AC" + "c" * 32, "process-token"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "testing.twilio_api",
            "--port",
            "0",
            "--account-sid",
            account_sid,
            "--auth-token",
            token,
            "--ready-file",
            str(ready),
            "--log-file",
            str(log),
        ],
        cwd=Path(__file__).resolve().parents[2],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 15
        while not ready.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ready.exists(), proc.stderr.read() if proc.stderr else ""
        url = ready.read_text().strip()

        client = Client(account_sid, token, http_client=RedirectingHttpClient(url))
        sid = client.messages.create(to=TO, from_=FROM, body="\N{GRINNING FACE} hi").sid

        [line] = [json.loads(raw) for raw in log.read_text().splitlines()]
        assert (line["sid"], line["to"], line["num_segments"]) == (sid, TO, 1)
        assert datetime.fromisoformat(line["created_at"]).tzinfo is not None

        proc.send_signal(signal.SIGTERM)
        stdout, _ = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()

    assert proc.returncode == 0
    first, *_, last = stdout.strip().splitlines()
    assert first == url
    summary = json.loads(last)
    assert summary["messages"] == 1 and summary["responses"] == {"201": 1}


def test_held_requests_wait_for_release_then_go_on(fake: FakeTwilio) -> None:
    client = make_client(fake, timeout=30)
    fake.hold_next(2)
    done: list[str] = []

    def create(body: str) -> None:
        done.append(client.messages.create(to=TO, from_=FROM, body=body).sid)

    threads = [threading.Thread(target=create, args=(f"held {n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 10
    while fake.held < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert fake.held == 2 and fake.messages == [] and done == []
    assert [r.status_code for r in fake.message_attempts()] == [None, None]
    # Not held: the third request is answered at once.
    assert client.messages.create(to=TO, from_=FROM, body="free").status == "queued"
    fake.release_held()
    for thread in threads:
        thread.join(10)
    assert sorted(m.body for m in fake.messages) == ["free", "held 0", "held 1"]
    assert len(done) == 2 and fake.held == 0
