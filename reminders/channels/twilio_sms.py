"""SMS through Twilio's REST API (twilio-python), with the errors sorted by what to do next.

twilio-python has no timeout and no retries by default: we set a timeout, leave retrying to the
task layer (which knows the evening's late limit), and point the client at TWILIO_API_URL so a
staging proxy or a local test double can stand in for api.twilio.com.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from reminders.channels.base import DeliveryError, Recipient, SlotMissed, SmsReceipt

TWILIO_BASE = "https://api.twilio.com"
# Error codes after which retrying is pointless (Twilio's error dictionary).
OPTED_OUT = "21610"
# 30006 arrives only in status callbacks: a landline or an unreachable carrier.
INVALID_NUMBER = ("21211", "21614", "30006")
PERMANENT_CODES = {OPTED_OUT, *INVALID_NUMBER, "21408", "21612", "21603", "21606", "21602"}
# Our account or its credentials refused (Authenticate, Account not active, Account is not
# active): a fault of the service, whoever the recipient is (circuit.py).
SERVICE_CODES = {"20003", "20005", "10001"}
# The lookup after a lost answer reads one page of the recipient's newest messages (a nightly
# text a day plus replies); a message that is not on it yet is looked for again later.
LOOKUP_LIMIT = 50
CLOCK_SKEW = timedelta(minutes=2)


class OnTimeAdapter(HTTPAdapter):
    """Refuses, at the last moment before the bytes are written, a request that is later than
    its thread's `send_by` (a rate-limit slot's end): sending it then would bunch it with the
    texts booked after it."""

    def __init__(self, local: threading.local, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._local = local

    def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        send_by = getattr(self._local, "send_by", None)
        if send_by is not None and time.monotonic() > send_by:
            raise SlotMissed()
        return super().send(request, *args, **kwargs)


class RebasedHttpClient(TwilioHttpClient):
    """Sends requests meant for api.twilio.com to `base_url`, and remembers response headers."""

    def __init__(self, base_url: str, timeout: float, pool_size: int = 10) -> None:
        super().__init__(timeout=timeout, pool_connections=True)
        self.base_url = base_url.rstrip("/")
        assert self.session is not None
        self._local = threading.local()
        # One kept-alive connection per sender thread (SEND_CONCURRENCY): requests' default
        # pool of 10 would open and throw away a connection for every send beyond ten.
        for prefix in ("https://", "http://"):
            self.session.mount(prefix, OnTimeAdapter(self._local, pool_connections=1,
                                                     pool_maxsize=pool_size))
        # requests reads the proxy and CA-bundle variables from os.environ again on every
        # request (a walk over the whole environment, 13 % of a send's CPU here). A worker's
        # environment does not change: read them once, for our one host, and keep them.
        found = self.session.merge_environment_settings(self.base_url, {}, None, None, None)
        self.proxy = dict(found["proxies"] or {})
        self.session.verify = found["verify"]
        self.session.trust_env = False

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        if url.startswith(TWILIO_BASE):
            url = self.base_url + url[len(TWILIO_BASE):]
        self._local.headers = {}
        response = super().request(method, url, *args, **kwargs)
        self._local.headers = dict(response.headers or {})
        return response

    def set_send_by(self, send_by: float | None) -> None:
        """This thread's next requests must reach the wire by `send_by` (or whenever: None)."""
        self._local.send_by = send_by

    def last_header(self, name: str) -> str | None:
        headers: dict[str, str] = getattr(self._local, "headers", {}) or {}
        for key, value in headers.items():
            if key.lower() == name.lower():
                return value
        return None


class TwilioSms:
    def __init__(
        self, account_sid: str, auth_token: str, from_number: str, messaging_service_sid: str,
        api_url: str, status_callback: str, timeout: float, pool_size: int = 10,
    ) -> None:
        self.http = RebasedHttpClient(api_url, timeout, pool_size)
        self.client = Client(account_sid, auth_token, http_client=self.http)
        # twilio-python imports its API modules on first use (about 40 ms): do it now, so the
        # first send of a worker does not hold a rate-limit slot while Python imports code.
        _ = self.client.messages
        self.from_number = from_number
        self.messaging_service_sid = messaging_service_sid
        self.status_callback = status_callback

    def send_sms(self, to: str, body: str, send_by: float | None = None) -> SmsReceipt:
        sender: dict[str, str] = (
            {"messaging_service_sid": self.messaging_service_sid}
            if self.messaging_service_sid else {"from_": self.from_number}
        )
        self.http.set_send_by(send_by)
        try:
            message = self.client.messages.create(
                to=to, body=body, status_callback=self.status_callback, **sender
            )
        except (TwilioException, requests.RequestException) as exc:
            raise self._classify(exc) from exc
        finally:
            self.http.set_send_by(None)
        return SmsReceipt(str(message.sid), str(message.status or "queued"),
                          int(message.num_segments or 1))

    def find_sent(self, to: str, since: datetime, body: str) -> SmsReceipt | None:
        """After a lost answer or a crash mid-send: does Twilio show tonight's text to `to`?

        Listed by recipient only, newest first: a DateSent filter would hide exactly what a lost
        answer leaves behind, since Twilio fills date_sent only at the carrier hand-off (queued,
        accepted and sending messages have none) and compares it by day. The text is told apart
        from replies and other evenings by its body and its creation time, give or take the
        difference between Twilio's clock and ours.
        """
        try:
            candidates = self.client.messages.list(to=to, limit=LOOKUP_LIMIT)
        except (TwilioException, requests.RequestException) as exc:
            raise self._classify(exc) from exc
        earliest = since - CLOCK_SKEW
        for message in candidates:
            created = message.date_created
            if (created is not None and created >= earliest
                    and (message.body or "").startswith(body)):
                return SmsReceipt(str(message.sid), str(message.status),
                                  int(message.num_segments or 1))
        return None

    def check_credentials(self) -> None:
        """One GET of our own account: DeliveryError (`service`) when Twilio refuses us."""
        try:
            self.client.api.v2010.accounts(self.client.account_sid).fetch()
        except (TwilioException, requests.RequestException) as exc:
            raise self._classify(exc) from exc

    def close(self) -> None:
        if self.http.session is not None:
            self.http.session.close()

    def _classify(self, exc: Exception) -> DeliveryError:
        if isinstance(exc, TwilioRestException):
            code = str(exc.code or "")
            if exc.status == 401 or code in SERVICE_CODES:
                return DeliveryError(exc.msg or "refused our credentials",
                                     code=code or str(exc.status), service=True)
            if exc.status == 429 or code == "20429":
                retry_after = _seconds(self.http.last_header("Retry-After"))
                return DeliveryError("rate limited", code=code or "429", retry_after=retry_after,
                                     overload=True)
            if code in PERMANENT_CODES or (400 <= exc.status < 500 and exc.status != 408):
                return DeliveryError(exc.msg or "rejected", permanent=True,
                                     code=code or str(exc.status),
                                     recipient=recipient_problem(code))
            return DeliveryError(exc.msg or "provider error", code=code or str(exc.status))
        if isinstance(exc, requests.Timeout):
            return DeliveryError("timeout", code="timeout", ambiguous=True)
        if isinstance(exc, requests.RequestException):
            # The request may have been written before the connection dropped.
            return DeliveryError(f"connection: {type(exc).__name__}", code="connection",
                                 ambiguous=True)
        return DeliveryError(str(exc) or type(exc).__name__, code="twilio")


# Undelivered because the handset cannot be reached (30003 unreachable, 30005 unknown or
# inactive, 30006 a landline or an unreachable carrier): the person's silence is not theirs.
UNREACHABLE_HANDSET = frozenset({"30003", "30005", "30006"})


def unreachable_handset(code: str) -> bool:
    return code in UNREACHABLE_HANDSET


def recipient_problem(code: str) -> Recipient:
    """What a Twilio error code (a send's answer, a status callback's ErrorCode) says about
    the person."""
    if code == OPTED_OUT:
        return Recipient.OPTED_OUT
    if code in INVALID_NUMBER:
        return Recipient.INVALID
    return Recipient.NONE


def _seconds(raw: str | None) -> float | None:
    try:
        return max(0.0, float(raw)) if raw is not None else None
    except ValueError:
        return None
