"""A local HTTP server that speaks Twilio's REST Messages API (2010-04-01) at the wire.

The point is to let the service under test use its *real* twilio-python client (only the base URL
is redirected), so request encoding, auth, error parsing and paging are exercised exactly as they
would be against api.twilio.com. Only the standard library is used for the server; twilio's own
``RequestValidator`` signs outgoing webhooks so the service's signature check is tested for real.

Use in-process::

    with FakeTwilio() as fake:
        ...  # point the client at fake.url
        fake.wait_for_messages(1)

or as a separate process (e.g. for a service started with its own environment)::

    python -m testing.twilio_api --port 0 --ready-file /tmp/url --log-file /tmp/sent.jsonl
"""

from __future__ import annotations

import argparse
import base64
import binascii
import contextlib
import hashlib
import hmac
import json
import os
import signal
import socket
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import Counter, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime, formatdate
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType, TracebackType
from typing import TYPE_CHECKING, Any, cast

from twilio.request_validator import HMAC_SHA1, SIGNATURE_SETTINGS_HEADER, RequestValidator

from testing.twilio_pace import Latency, Pace, parse_latency

if TYPE_CHECKING:
    from testing.twilio_calls import Calls

API_VERSION = "2010-04-01"
DEFAULT_ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
DEFAULT_AUTH_TOKEN = "test-token"
_ERROR_DOCS = "https://www.twilio.com/docs/errors/"

# Messages Twilio uses for the error codes this fake can produce. Callers can override the text
# where Twilio varies it (e.g. 21211 quotes the number), but the codes are what clients branch on.
ERROR_MESSAGES: dict[int, str] = {
    20001: "Invalid parameter",
    20003: "Authenticate",
    20004: "Method not allowed",
    20404: "The requested resource was not found",
    20429: "Too Many Requests",
    21211: "Invalid 'To' Phone Number",
    21602: "Message body is required.",
    21603: "A 'From' phone number is required.",
    21604: "A 'To' phone number is required.",
    21610: "Attempt to send to unsubscribed recipient",
    21614: "'To' number is not a valid mobile number",
}

# Twilio fills in date_sent only once the message was handed to the carrier: while it is queued,
# accepted (a Messaging Service still picking a sender) or sending, date_sent is null, and the
# DateSent list filters do not match it.
_SENT_STATUSES = frozenset({"sent", "delivered", "undelivered", "read"})
_LIST_FILTER_KEYS = ("To", "From", "DateSent", "DateSent>", "DateSent<")
_DEFAULT_PAGE_SIZE = 50
_MAX_PAGE_SIZE = 1000

# --- SMS segment counting ----------------------------------------------------------------------
# Greek capitals are written as escapes so the table survives editors/linters that flag
# confusable characters; they are part of the GSM 03.38 default alphabet.
_GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅå\u0394_\u03a6\u0393\u039b\u03a9\u03a0\u03a8\u03a3\u0398\u039eÆæßÉ"
    " !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Extension-table characters are sent as ESC + char, so they cost two septets.
_GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")


def _pack_segments(units: list[int], single_limit: int, multi_limit: int) -> int:
    """Count segments, never splitting one character's units across two segments.

    Concatenated SMS reserve room for the UDH, hence the smaller per-segment limit once a message
    does not fit in one; an escape pair or a UTF-16 surrogate pair must stay together.
    """
    if sum(units) <= single_limit:
        return 1
    segments, used = 1, 0
    for unit in units:
        if used + unit > multi_limit:
            segments += 1
            used = 0
        used += unit
    return segments


def count_segments(body: str) -> int:
    """Number of SMS segments Twilio would bill for ``body`` (GSM-7 if possible, else UCS-2)."""
    if all(ch in _GSM7_BASIC or ch in _GSM7_EXTENSION for ch in body):
        septets = [2 if ch in _GSM7_EXTENSION else 1 for ch in body]
        return _pack_segments(septets, 160, 153)
    # UCS-2 is really UTF-16 on the wire: astral characters (most emoji) take two code units.
    code_units = [2 if ord(ch) > 0xFFFF else 1 for ch in body]
    return _pack_segments(code_units, 70, 67)


# --- helpers -----------------------------------------------------------------------------------


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _as_utc(value: datetime) -> datetime:
    # A naive clock value is taken to be UTC rather than local time: Twilio only speaks GMT.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _rfc2822(value: datetime) -> str:
    return format_datetime(_as_utc(value), usegmt=True)


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def _fmt_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    return next((v for k, v in headers.items() if k.lower() == wanted), None)


def _first_values(multi: Mapping[str, list[str]]) -> dict[str, str]:
    return {key: values[0] for key, values in multi.items() if values}


def twilio_error(status: int, code: int | None, message: str | None = None) -> dict[str, Any]:
    """Twilio's legacy error body; twilio-python turns it into ``TwilioRestException``."""
    text = message or (ERROR_MESSAGES.get(code) if code is not None else None) or _reason(status)
    return {
        "code": code,
        "message": text,
        "more_info": f"{_ERROR_DOCS}{code}" if code is not None else None,
        "status": status,
    }


# --- records -----------------------------------------------------------------------------------


@dataclass
class SentMessage:
    """One message the fake accepted (HTTP 201)."""

    sid: str
    to: str
    from_: str | None
    messaging_service_sid: str | None
    body: str
    status_callback: str | None
    num_segments: int
    created_at: datetime
    headers: dict[str, str]
    # First value of each form field; repeated fields (MediaUrl) are summarised in num_media.
    raw_form: dict[str, str]
    num_media: int = 0
    status: str = "queued"
    error_code: int | None = None
    updated_at: datetime | None = None
    # When the carrier hand-off happened (the first move to a _SENT_STATUSES status): date_sent.
    sent_at: datetime | None = None
    received_at: datetime | None = None  # when its creation request arrived (wall clock)


@dataclass
class RequestRecord:
    """One HTTP request attempt, whatever its outcome.

    It is logged when the request *arrives* (status_code None while it is still being answered),
    so a test can count an attempt that is hanging or whose client already gave up.
    """

    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    time: datetime
    status_code: int | None = None
    # "fail", "hang", "late", "reject", "down" or "busy" (over the concurrency limit)
    fault: str | None = None


@dataclass(frozen=True)
class _Fault:
    kind: str  # "fail", "hang" or "late" (accepted at once, answered after `seconds`)
    http_status: int = 500
    code: int | None = None
    message: str | None = None
    retry_after: float | None = None
    seconds: float = 0.0
    then_accept: bool = True


@dataclass
class _Incoming:
    method: str
    path: str
    query: dict[str, str]
    form_lists: dict[str, list[str]]
    headers: dict[str, str]
    # When the request had arrived (read whole): what Twilio counts against an account's
    # limits, before any latency.
    received_at: datetime = field(default_factory=lambda: _utcnow())

    @property
    def form(self) -> dict[str, str]:
        return _first_values(self.form_lists)


@dataclass
class _Reply:
    status: int
    payload: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    fault: str | None = None


def _error_reply(
    status: int, code: int | None, message: str | None = None, fault: str | None = None
) -> _Reply:
    return _Reply(status, twilio_error(status, code, message), fault=fault)


def _not_found(path: str) -> _Reply:
    return _error_reply(404, 20404, f"The requested resource {path} was not found")


def _validate_create(form: Mapping[str, str]) -> _Reply | None:
    if not form.get("To", "").strip():
        return _error_reply(400, 21604)
    # Twilio accepts a media-only (MMS) or Content API message without a Body.
    if not form.get("Body") and not (form.get("MediaUrl") or form.get("ContentSid")):
        return _error_reply(400, 21602)
    if not form.get("From", "").strip() and not form.get("MessagingServiceSid", "").strip():
        return _error_reply(400, 21603)
    return None


# --- list filtering ----------------------------------------------------------------------------


def _parse_bound(name: str, value: str | None) -> date | None:
    """The date of a DateSent bound, as Twilio reads it: at day granularity.

    The API documents `YYYY-MM-DD` (GMT) and compares dates: `DateSent>=2027-01-08` is "sent on
    or after midnight" of that day, `DateSent<=…` "sent on or before" it. twilio-python sends
    ``date_sent_after`` as a full timestamp under the key ``DateSent>`` (the wire reads
    ``DateSent%3E=…``); like the API, the fake keeps only its date, so an hour given there
    narrows nothing.
    """
    if not value:
        return None
    try:
        return _as_utc(datetime.fromisoformat(value)).date() if len(value) > 10 else (
            date.fromisoformat(value))
    except ValueError:
        raise ValueError(f"Invalid {name} value: {value!r}") from None


@dataclass(frozen=True)
class _ListFilter:
    to: str | None
    from_: str | None
    on: date | None
    after: date | None
    before: date | None

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> _ListFilter:
        return cls(
            to=query.get("To") or None,
            from_=query.get("From") or None,
            on=_parse_bound("DateSent", query.get("DateSent")),
            after=_parse_bound("DateSent>", query.get("DateSent>")),
            before=_parse_bound("DateSent<", query.get("DateSent<")),
        )

    @property
    def by_date(self) -> bool:
        return any(bound is not None for bound in (self.on, self.after, self.before))

    def matches(self, msg: SentMessage) -> bool:
        if (self.to is not None and msg.to != self.to) or (
                self.from_ is not None and msg.from_ != self.from_):
            return False
        if not self.by_date:
            return True
        if msg.sent_at is None:
            return False  # no date_sent yet (queued, accepted, sending): no DateSent matches it
        day = _as_utc(msg.sent_at).date()
        return all((self.on is None or day == self.on,
                    self.after is None or day >= self.after,
                    self.before is None or day <= self.before))


def _newest_first(msg: SentMessage) -> tuple[int, datetime]:
    """Twilio sorts the list by DateSent, most recent first. Where it puts a message that has no
    DateSent yet is not documented: the fake puts those after every sent one (newest created
    first), the less convenient place for a client looking for a message it just created."""
    if msg.sent_at is None:
        return (0, _as_utc(msg.created_at))
    return (1, _as_utc(msg.sent_at))


def _paging(query: Mapping[str, str]) -> tuple[int, int]:
    try:
        page_size = int(query.get("PageSize") or _DEFAULT_PAGE_SIZE)
        page = int(query.get("Page") or 0)
    except ValueError:
        raise ValueError("Invalid PageSize or Page") from None
    if not 1 <= page_size <= _MAX_PAGE_SIZE or page < 0:
        raise ValueError("Invalid PageSize or Page")
    return page, page_size


# --- HTTP plumbing -----------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a hung or keep-alive handler must never block interpreter exit
    # A sender with a hundred threads opens a hundred connections at once: the listen backlog
    # of 5 would drop most SYNs, and each dropped one costs the client a 1 s retransmission.
    request_queue_size = 256
    allow_reuse_address = True  # restart on the same port right after stop() (TIME_WAIT)

    def __init__(self, address: tuple[str, int], fake: FakeTwilio) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.fake = fake
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def get_request(self) -> tuple[Any, Any]:
        conn, addr = super().get_request()
        # Without this, Nagle's algorithm plus the client's delayed ACK stalls each small
        # keep-alive response by ~40 ms, capping a sequential sender at ~25 requests/s.
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self._connections_lock:
            self._connections.add(conn)
        return conn, addr

    def close_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().close_request(request)

    def drop_connections(self) -> None:
        # shutdown() only stops accepting; pooled keep-alive connections would otherwise keep
        # being served by their handler threads after the fake is "stopped".
        with self._connections_lock:
            conns = list(self._connections)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like api.twilio.com

    def log_message(self, format: str, *args: Any) -> None:
        pass  # per-request stderr lines would drown test output

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_GET
    do_PUT = do_GET
    do_DELETE = do_GET
    do_PATCH = do_GET

    def _dispatch(self) -> None:
        fake = cast(_Server, self.server).fake
        split = urllib.parse.urlsplit(self.path)
        # The body must always be consumed, even for requests we reject, or the next request on
        # this keep-alive connection would be parsed from the middle of it.
        body = self._read_body().decode("utf-8", "replace")
        query = urllib.parse.parse_qs(split.query, keep_blank_values=True)
        incoming = _Incoming(
            method=self.command,
            path=split.path,
            query=_first_values(query),
            form_lists=urllib.parse.parse_qs(body, keep_blank_values=True),
            headers=dict(self.headers.items()),
        )
        reply = fake._handle(incoming)
        if fake._stopping.is_set():
            self.close_connection = True
        self._write(reply)

    def _read_body(self) -> bytes:
        if (self.headers.get("Transfer-Encoding") or "").lower() == "chunked":
            return self._read_chunked()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _read_chunked(self) -> bytes:
        chunks: list[bytes] = []
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass  # skip trailers
                return b"".join(chunks)
            chunks.append(self.rfile.read(size))
            self.rfile.readline()

    def _write(self, reply: _Reply) -> None:
        body = b"" if reply.payload is None else json.dumps(reply.payload).encode("utf-8")
        lines = [
            f"{self.protocol_version} {reply.status} {_reason(reply.status)}",
            f"Date: {formatdate(usegmt=True)}",
            f"Content-Length: {len(body)}",
            f"Twilio-Request-Id: RQ{uuid.uuid4().hex}",
        ]
        if body:
            lines.append("Content-Type: application/json; charset=utf-8")
        lines.extend(f"{key}: {value}" for key, value in reply.headers.items())
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        try:
            # One write = one segment burst; separate header/body writes would re-introduce
            # the write-write-read pattern that triggers delayed ACK stalls.
            self.wfile.write(head + body)
        except OSError:
            # The client gave up (e.g. timed out during hang_next); nothing left to tell it.
            self.close_connection = True


def signed_webhook(
    url: str, params: Mapping[str, object], token: str, *, as_json: bool = False,
    signing_key_id: str | None = None, algorithm: str | None = None,
) -> tuple[str, bytes, dict[str, str]]:
    """The URL, body and headers of a webhook signed the way Twilio signs it.

    A form body: the signature covers the URL and every parameter. A JSON body: Twilio adds
    ``bodySHA256`` (hex SHA-256 of the body) to the URL and signs the URL alone. A SharedKey
    (``signing_key_id``, whose secret is then ``token``) is named in
    ``X-Twilio-Webhooks-Signature-Settings`` together with the algorithm.
    """
    values = {key: str(value) for key, value in params.items()}
    if as_json:
        data = json.dumps(values).encode("utf-8")
        separator = "&" if "?" in url else "?"
        url += f"{separator}bodySHA256={hashlib.sha256(data).hexdigest()}"
        signed: Mapping[str, str] = {}
        content_type = "application/json"
    else:
        data = urllib.parse.urlencode(values).encode("utf-8")
        signed = values
        content_type = "application/x-www-form-urlencoded; charset=utf-8"
    headers = {"Content-Type": content_type, "X-Twilio-Signature": RequestValidator(
        token).compute_signature(url, signed, algorithm)}
    if signing_key_id is not None:
        headers[SIGNATURE_SETTINGS_HEADER] = (
            f"key={signing_key_id},algorithm={algorithm or HMAC_SHA1}")
    return url, data, headers


# --- the fake ----------------------------------------------------------------------------------


class FakeTwilio(Pace):
    """Fake api.twilio.com for the Messages resource, with fault injection and webhooks; its
    speed (latency, concurrency limit) is set with Pace's methods (twilio_pace.py)."""

    def __init__(
        self,
        account_sid: str = DEFAULT_ACCOUNT_SID,
        auth_token: str = DEFAULT_AUTH_TOKEN,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        log_file: str | os.PathLike[str] | None = None,
        clock: Callable[[], datetime] | None = None,
        latency: Latency = 0.0,
        max_concurrent: int | None = None,
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.host = host
        self.port = port
        # One JSON line per accepted message, for a test running in another process.
        self.log_file = log_file
        # Replaceable so tests can create messages "yesterday" to exercise DateSent filters.
        self.clock: Callable[[], datetime] = clock or _utcnow
        # A single Condition guards all mutable state; wait_for_messages waits on it.
        self._cond = threading.Condition()
        self._messages: list[SentMessage] = []
        self._requests: list[RequestRecord] = []
        self._faults: deque[_Fault] = deque()
        self._rejections: dict[str, tuple[int, str | None]] = {}
        self._api_keys: dict[str, str] = {}
        # How long a new message stays out of list results (Twilio's list is eventually
        # consistent: twilio-node and twilio-java users report recent messages missing from it).
        self._list_lag = timedelta(0)
        self._down = False
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._latency, self._max_concurrent = latency, max_concurrent

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> FakeTwilio:
        if self._server is not None:
            raise RuntimeError("FakeTwilio is already running")
        self._stopping.clear()
        server = _Server((self.host, self.port), self)
        # Remember the real port so a stop()/start() cycle ("Twilio outage") keeps the same URL.
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"FakeTwilio:{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        self._stopping.set()  # wakes handlers sleeping in hang_next
        server.shutdown()
        server.drop_connections()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> FakeTwilio:
        if self._server is None:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def url(self) -> str:
        """Base URL replacing ``https://api.twilio.com``, e.g. ``http://127.0.0.1:43123``."""
        if self._server is None:
            raise RuntimeError("FakeTwilio is not running; call start() first")
        host = str(self._server.server_address[0])
        return f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"

    # -- recorded state -------------------------------------------------------------------------

    @property
    def messages(self) -> list[SentMessage]:
        """Copies of every accepted message, oldest first."""
        with self._cond:
            return [replace(m) for m in self._messages]

    def messages_to(self, to: str) -> list[SentMessage]:
        with self._cond:
            return [replace(m) for m in self._messages if m.to == to]

    def get_message(self, sid: str) -> SentMessage | None:
        with self._cond:
            return next((replace(m) for m in self._messages if m.sid == sid), None)

    @property
    def requests_log(self) -> list[RequestRecord]:
        """Copies of every request attempt (including rejected/faulted ones), oldest first."""
        with self._cond:
            return [replace(r) for r in self._requests]

    def message_attempts(self) -> list[RequestRecord]:
        """Only the POST .../Messages.json attempts: what a retry policy test usually counts."""
        return [
            r for r in self.requests_log if r.method == "POST" and r.path.endswith("/Messages.json")
        ]

    def clear(self) -> None:
        """Forget recorded messages and requests (faults are kept; see clear_faults)."""
        with self._cond:
            self._messages.clear()
            self._requests.clear()

    def wait_for_messages(self, n: int, timeout: float = 10.0) -> list[SentMessage]:
        """Block until at least ``n`` messages were accepted; return them all."""
        with self._cond:
            if self._cond.wait_for(lambda: len(self._messages) >= n, timeout):
                return [replace(m) for m in self._messages]
            got = [(m.to, m.body[:40]) for m in self._messages]
            recent = [(r.method, r.path, r.status_code, r.fault) for r in self._requests[-10:]]
        raise AssertionError(
            f"FakeTwilio: expected at least {n} message(s) within {timeout}s, "
            f"got {len(got)}: {got!r}; last requests (method, path, status, fault): {recent!r}"
        )

    def summary(self) -> dict[str, Any]:
        with self._cond:
            statuses = Counter(str(r.status_code) for r in self._requests)
            faults = Counter(r.fault for r in self._requests if r.fault)
            return {
                "account_sid": self.account_sid,
                "messages": len(self._messages),
                "requests": len(self._requests),
                "responses": dict(statuses),
                "faults": dict(faults),
                "busiest": self._busiest,
            }

    # -- fault injection ------------------------------------------------------------------------

    def fail_next(
        self,
        n: int = 1,
        http_status: int = 500,
        code: int | None = None,
        retry_after: float | None = None,
        message: str | None = None,
    ) -> None:
        """Answer the next ``n`` message creations with an error (429 defaults to code 20429)."""
        if code is None and http_status == 429:
            code = 20429  # what Twilio sends for rate limiting; 5xx errors carry a null code
        fault = _Fault("fail", http_status, code, message, retry_after)
        with self._cond:
            self._faults.extend([fault] * n)

    def hang_next(self, n: int = 1, seconds: float = 5.0, then_accept: bool = True) -> None:
        """Delay the next ``n`` message creations by ``seconds``.

        With ``then_accept`` the message is recorded after the delay even if the client has
        timed out by then, as Twilio may well have accepted a request whose answer was lost;
        otherwise a 503 is answered after the delay and nothing is recorded.
        """
        fault = _Fault("hang", seconds=seconds, then_accept=then_accept)
        with self._cond:
            self._faults.extend([fault] * n)

    def answer_late_next(self, n: int = 1, seconds: float = 5.0) -> None:
        """Accept the next ``n`` message creations at once, but answer them ``seconds`` later.

        What a client sees when Twilio committed the message and the answer was lost or slow:
        with ``seconds`` beyond the client's timeout, the message exists (queued, so no
        date_sent) while the sender believes the request failed.
        """
        fault = _Fault("late", seconds=seconds)
        with self._cond:
            self._faults.extend([fault] * n)

    def set_list_lag(self, seconds: float) -> None:
        """Keep each message out of list results until ``seconds`` after its creation (by
        ``clock``); fetching it by SID still works. 0 (the default) lists it at once."""
        with self._cond:
            self._list_lag = timedelta(seconds=seconds)

    def reject_number(self, to: str, code: int = 21610, message: str | None = None) -> None:
        """Make every message to ``to`` fail with HTTP 400 and ``code`` (21610, 21211, 21614...)."""
        with self._cond:
            self._rejections[to] = (code, message)

    def accept_number(self, to: str) -> None:
        """Undo reject_number for ``to`` (Twilio lifts its block when the person texts START)."""
        with self._cond:
            self._rejections.pop(to, None)

    def set_down(self, down: bool = True) -> None:
        """While down, every request (any path, even unauthenticated) gets 503 with a null code."""
        with self._cond:
            self._down = down

    def clear_faults(self) -> None:
        with self._cond:
            self._faults.clear()
            self._rejections.clear()
            self._down = False

    def add_api_key(self, key_sid: str, secret: str) -> None:
        """Accept ``key_sid``/``secret`` as Basic credentials (that secret only, as Twilio does:
        an API key is never accepted with the account's auth token)."""
        with self._cond:
            self._api_keys[key_sid] = secret

    # -- status changes and webhooks ------------------------------------------------------------

    def set_status(self, sid: str, status: str, error_code: int | None = None) -> SentMessage:
        """Change a message's status as seen by fetch/list, without sending a callback."""
        with self._cond:
            msg = next((m for m in self._messages if m.sid == sid), None)
            if msg is None:
                raise KeyError(f"FakeTwilio: no message {sid}")
            msg.status = status
            msg.error_code = error_code
            msg.updated_at = self.clock()
            if status in _SENT_STATUSES and msg.sent_at is None:
                msg.sent_at = msg.updated_at  # the carrier hand-off: date_sent from now on
            return replace(msg)

    def post_status(
        self,
        sid: str,
        status: str,
        error_code: int | None = None,
        extra: Mapping[str, str] | None = None,
    ) -> int:
        """Update the message's status and POST a signed status callback; return the HTTP status."""
        current = self.get_message(sid)
        if current is None:
            raise KeyError(f"FakeTwilio: no message {sid}")
        if not current.status_callback:
            raise ValueError(f"FakeTwilio: message {sid} was created without a StatusCallback")
        msg = self.set_status(sid, status, error_code)
        params = {
            "MessageSid": sid,
            "MessageStatus": status,
            "SmsSid": sid,
            "SmsStatus": status,
            "AccountSid": self.account_sid,
            "To": msg.to,
            "ApiVersion": API_VERSION,
        }
        # A Messaging Service message has no From until Twilio picks a sender; omit it then.
        if msg.from_:
            params["From"] = msg.from_
        if msg.messaging_service_sid:
            params["MessagingServiceSid"] = msg.messaging_service_sid
        if error_code is not None:
            params["ErrorCode"] = str(error_code)
        params.update(extra or {})
        status_code, _, _ = self.post_signed(cast(str, msg.status_callback), params)
        return status_code

    def post_signed(
        self, url: str, params: Mapping[str, object], auth_token: str | None = None, *,
        as_json: bool = False, signing_key_id: str | None = None, algorithm: str | None = None,
    ) -> tuple[int, str, dict[str, str]]:
        """POST ``params`` to ``url`` with a valid ``X-Twilio-Signature``.

        Used for status callbacks and to simulate inbound-SMS webhooks. Pass another
        ``auth_token`` to produce a signature the receiver must reject. Redirects are not
        followed so a misrouted webhook shows up as its 3xx status. See ``signed_webhook`` for
        the newer schemes (a JSON body with ``bodySHA256``, a SharedKey with HMAC-SHA256).
        """
        token = self.auth_token if auth_token is None else auth_token
        url, data, headers = signed_webhook(url, params, token, as_json=as_json,
                                            signing_key_id=signing_key_id, algorithm=algorithm)
        request = urllib.request.Request(
            url,
            data=data,
            method="POST",
            headers={
                **headers,
                "User-Agent": "TwilioProxy/1.1",
                "I-Twilio-Idempotency-Token": uuid.uuid4().hex,
            },
        )
        opener = urllib.request.build_opener(_NoRedirect)
        try:
            with opener.open(request, timeout=10) as response:
                text = response.read().decode("utf-8", "replace")
                return response.status, text, dict(response.headers.items())
        except urllib.error.HTTPError as exc:
            text = exc.read().decode("utf-8", "replace")
            return exc.code, text, dict(exc.headers.items())

    # -- request handling (called from handler threads) -----------------------------------------

    def _handle(self, req: _Incoming) -> _Reply:
        # Wall-clock time, not self.clock: back-dating messages must not skew attempt timing.
        record = RequestRecord(req.method, req.path, req.query, req.form, _utcnow())
        with self._cond:
            self._requests.append(record)
        reply = self._route(req)
        with self._cond:
            record.status_code = reply.status
            record.fault = reply.fault
            self._cond.notify_all()
        return reply

    def _route(self, req: _Incoming) -> _Reply:
        with self._cond:
            down = self._down
        if down:
            return _error_reply(503, None, fault="down")
        user = self._authenticate(req.headers)
        if user is None:
            reply = _error_reply(401, 20003)
            reply.headers["WWW-Authenticate"] = 'Basic realm="Twilio API"'
            return reply
        prefix = f"/{API_VERSION}/Accounts/"
        if not req.path.startswith(prefix):
            return _not_found(req.path)
        account, _, resource = req.path[len(prefix) :].partition("/")
        if account.removesuffix(".json") != self.account_sid:
            # Authenticated, but asking for someone else's account: Twilio says "not found".
            return _not_found(req.path)
        if not resource:
            return self._account_resource(req)
        if resource.startswith("Calls"):
            return self.calls.route(req, resource)
        return self._route_messages(req, resource)

    @property
    def calls(self) -> Calls:
        """The Calls resource (testing/twilio_calls.py): place, list, press keys."""
        from testing.twilio_calls import Calls

        with self._cond:
            if self._calls is None:
                self._calls = Calls(self)
            return self._calls

    _calls: Calls | None = None

    def _route_messages(self, req: _Incoming, resource: str) -> _Reply:
        if resource == "Messages.json":
            if req.method == "POST":
                return self._create_message(req)
            if req.method == "GET":
                return self._list_messages(req)
            return _error_reply(405, 20004)
        sid = resource.removeprefix("Messages/").removesuffix(".json")
        if not resource.startswith("Messages/") or not resource.endswith(".json") or "/" in sid:
            return _not_found(req.path)
        if req.method != "GET":
            return _error_reply(405, 20004)
        with self._cond:
            msg = next((m for m in self._messages if m.sid == sid), None)
            if msg is not None:
                return _Reply(200, self._resource(msg))
        return _not_found(req.path)

    def _authenticate(self, headers: Mapping[str, str]) -> str | None:
        value = _header(headers, "Authorization") or ""
        scheme, _, encoded = value.partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        user, sep, password = decoded.partition(":")
        with self._cond:
            # Exactly one secret per user name: the account's token for its SID, a key's own
            # secret for an SK key (never the token), nothing for anyone else.
            secret = self.auth_token if user == self.account_sid else self._api_keys.get(user)
        ok = secret is not None and hmac.compare_digest(password.encode(), secret.encode())
        return user if sep and ok else None

    def _account_resource(self, req: _Incoming) -> _Reply:
        # Some services fetch their own account at start-up as a credentials check.
        if req.method != "GET":
            return _error_reply(405, 20004)
        base = f"/{API_VERSION}/Accounts/{self.account_sid}"
        return _Reply(
            200,
            {
                "sid": self.account_sid,
                "owner_account_sid": self.account_sid,
                "friendly_name": "FakeTwilio",
                "status": "active",
                "type": "Full",
                "date_created": _rfc2822(datetime(2020, 1, 1, tzinfo=UTC)),
                "date_updated": _rfc2822(datetime(2020, 1, 1, tzinfo=UTC)),
                "uri": f"{base}.json",
                "subresource_uris": {"messages": f"{base}/Messages.json"},
            },
        )

    def _create_message(self, req: _Incoming,
                        accept: Callable[[_Incoming], _Reply] | None = None) -> _Reply:
        """A creation (a message; a call: twilio_calls.py passes its `accept`) with the
        faults, holds, latency and concurrency limit asked for."""
        with self._creating_one() as allowed:
            if not allowed:
                return _error_reply(429, 20429, "Too many concurrent requests", fault="busy")
            self._wait_latency()
            return self._create_message_now(req, accept or self._accept_message)

    def _create_message_now(self, req: _Incoming,
                            accept: Callable[[_Incoming], _Reply]) -> _Reply:
        self._hold_if_asked()
        with self._cond:
            fault = self._faults.popleft() if self._faults else None
        if fault is not None and fault.kind == "fail":
            reply = _error_reply(fault.http_status, fault.code, fault.message, fault="fail")
            if fault.retry_after is not None:
                reply.headers["Retry-After"] = _fmt_number(fault.retry_after)
            return reply
        if fault is not None and fault.kind == "late":
            reply = accept(req)
            self._stopping.wait(fault.seconds)  # committed; the answer comes too late
            reply.fault = reply.fault or "late"
            return reply
        if fault is not None:
            # Event.wait rather than sleep: stop() must not wait for a hung handler.
            self._stopping.wait(fault.seconds)
            if not fault.then_accept:
                return _error_reply(503, None, fault="hang")
        reply = accept(req)
        if fault is not None:
            reply.fault = reply.fault or "hang"
        return reply

    def _accept_message(self, req: _Incoming) -> _Reply:
        form = req.form
        invalid = _validate_create(form)
        if invalid is not None:
            return invalid
        to = form["To"].strip()
        with self._cond:
            rejection = self._rejections.get(to)
        if rejection is not None:
            return _error_reply(400, rejection[0], rejection[1], fault="reject")
        service = form.get("MessagingServiceSid") or None
        body = form.get("Body", "")
        msg = SentMessage(
            sid="SM" + uuid.uuid4().hex,
            to=to,
            from_=form.get("From") or None,
            messaging_service_sid=service,
            body=body,
            status_callback=form.get("StatusCallback") or None,
            num_segments=count_segments(body),
            created_at=_as_utc(self.clock()),
            headers=dict(req.headers),
            raw_form=form,
            num_media=len(req.form_lists.get("MediaUrl", [])),
            # A Messaging Service defers sender selection, so Twilio reports "accepted".
            status="accepted" if service else "queued",
            received_at=req.received_at,
        )
        with self._cond:
            self._messages.append(msg)
            self._append_log_line(msg)
            self._cond.notify_all()
            return _Reply(201, self._resource(msg))

    def _append_log_line(self, msg: SentMessage) -> None:
        if self.log_file is None:
            return
        line = {
            "sid": msg.sid,
            "to": msg.to,
            "from": msg.from_,
            "body": msg.body,
            "num_segments": msg.num_segments,
            "created_at": msg.created_at.isoformat(),
            "received_at": (msg.received_at or msg.created_at).isoformat(),
        }
        # Opened per line in append mode so another process can tail/count it at any time.
        with open(self.log_file, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(line, ensure_ascii=False) + "\n")

    def _resource(self, msg: SentMessage) -> dict[str, Any]:
        base = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{msg.sid}"
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": msg.body,
            "date_created": _rfc2822(msg.created_at),
            "date_sent": _rfc2822(msg.sent_at) if msg.sent_at is not None else None,
            "date_updated": _rfc2822(msg.updated_at or msg.created_at),
            "direction": "outbound-api",
            "error_code": msg.error_code,
            "error_message": ERROR_MESSAGES.get(msg.error_code) if msg.error_code else None,
            "from": msg.from_,
            "messaging_service_sid": msg.messaging_service_sid,
            "num_media": str(msg.num_media),
            "num_segments": str(msg.num_segments),
            "price": None,
            "price_unit": "USD",
            "sid": msg.sid,
            "status": msg.status,
            "subresource_uris": {
                "media": f"{base}/Media.json",
                "feedback": f"{base}/Feedback.json",
            },
            "to": msg.to,
            "uri": f"{base}.json",
        }

    def _list_messages(self, req: _Incoming) -> _Reply:
        try:
            criteria = _ListFilter.from_query(req.query)
            page, page_size = _paging(req.query)
        except ValueError as exc:
            return _error_reply(400, 20001, str(exc))
        with self._cond:
            listed_before = _as_utc(self.clock()) - self._list_lag
            # Newest first; reversed() keeps insertion order as the tie-break within a second.
            matched = [m for m in reversed(self._messages) if criteria.matches(m)
                       and _as_utc(m.created_at) <= listed_before]
            matched.sort(key=_newest_first, reverse=True)
            start = page * page_size
            items = [self._resource(m) for m in matched[start : start + page_size]]
        has_next = len(matched) > start + page_size
        filters = {k: req.query[k] for k in _LIST_FILTER_KEYS if k in req.query}
        base = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages.json"

        def page_uri(number: int) -> str:
            params = {**filters, "PageSize": page_size, "Page": number}
            return f"{base}?{urllib.parse.urlencode(params)}"

        return _Reply(
            200,
            {
                "messages": items,
                "end": start + max(len(items) - 1, 0),
                "first_page_uri": page_uri(0),
                "next_page_uri": page_uri(page + 1) if has_next else None,
                "page": page,
                "page_size": page_size,
                "previous_page_uri": page_uri(page - 1) if page > 0 else None,
                "start": start,
                "uri": page_uri(page),
            },
        )

    # -- holding requests: a sender killed while its request hangs here
    # (tests/faults/test_faults.py) -- Class-level defaults, so this feature needs nothing in
    # __init__.
    _hold_quota = 0  # message creations still to be held
    _holding = 0  # held right now
    _hold_gate: threading.Event | None = None

    def hold_next(self, n: int = 1) -> None:
        """Hold the next ``n`` message creations unanswered until ``release_held()``.

        Unlike ``hang_next`` nothing times out on our side: the test decides when Twilio
        "answers", e.g. only after it has killed the worker that is waiting for the answer.
        A released request then goes on as usual (faults, acceptance).
        """
        with self._cond:
            self._hold_quota += n
            if self._hold_gate is None or self._hold_gate.is_set():
                self._hold_gate = threading.Event()

    def release_held(self) -> None:
        """Let every held request go on, and hold no more."""
        with self._cond:
            self._hold_quota = 0
            gate = self._hold_gate
        if gate is not None:
            gate.set()

    @property
    def held(self) -> int:
        """How many message creations are being held right now."""
        with self._cond:
            return self._holding

    def _hold_if_asked(self) -> None:
        with self._cond:
            if self._hold_quota <= 0 or self._hold_gate is None:
                return
            self._hold_quota -= 1
            self._holding += 1
            gate = self._hold_gate
        # Short waits: stop() must not wait for a held handler either.
        while not gate.wait(0.05) and not self._stopping.is_set():
            pass
        with self._cond:
            self._holding -= 1


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # surfaces the 3xx as HTTPError instead of silently re-POSTing as GET


# --- stand-alone process -----------------------------------------------------------------------


def _write_atomically(path: str, text: str) -> None:
    # A poller must never read a half-written URL, so write aside and rename into place.
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Serve a fake Twilio Messages API.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--account-sid", default=DEFAULT_ACCOUNT_SID)
    parser.add_argument("--auth-token", default=DEFAULT_AUTH_TOKEN)
    parser.add_argument("--ready-file", help="write the base URL here once listening")
    parser.add_argument("--log-file", help="append one JSON line per accepted message")
    parser.add_argument("--summary-file", help="also write the exit summary JSON here")
    parser.add_argument("--latency", type=parse_latency, default=0.0,
                        help="seconds per message creation: 0.2, or a range 0.1,0.5")
    parser.add_argument("--max-concurrent", type=int, default=None,
                        help="answer 429 / 20429 to creations beyond this many at once")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    fake = FakeTwilio(
        args.account_sid, args.auth_token, args.host, args.port, log_file=args.log_file,
        latency=args.latency, max_concurrent=args.max_concurrent,
    )
    stop = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    fake.start()
    url = fake.url
    print(url, flush=True)
    if args.ready_file:
        _write_atomically(args.ready_file, url + "\n")
    # Short waits keep the main thread responsive to signals on every platform.
    while not stop.wait(0.5):
        pass
    fake.stop()
    summary = {"url": url, **fake.summary()}
    text = json.dumps(summary, sort_keys=True)
    print(text, flush=True)
    if args.summary_file:
        _write_atomically(args.summary_file, text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
