"""Post signed webhooks the way Twilio does: signature computed for the public URL."""

from __future__ import annotations

import html
import re
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from werkzeug.serving import make_server

from reminders.entry.web.app import create_app
from reminders.wiring import Services
from testing.twilio_api import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, signed_webhook

OUR_NUMBER = "+15005550006"  # TWILIO_FROM_NUMBER in tests/conftest.py
PUBLIC_URL = "https://reminders.example.org"  # PUBLIC_URL in tests/conftest.py


def new_sid(prefix: str = "SM") -> str:
    """A fresh Twilio-shaped SID: every real message has its own (replays share one)."""
    return prefix + secrets.token_hex(16)


@dataclass
class WebhookClient:
    base_url: str  # where the app really listens (behind the "proxy")
    public_url: str  # what Twilio was told, and signs
    auth_token: str

    def post(self, path: str, params: dict[str, str], signature: str | None = "valid",
             sign_url: str | None = None, *, as_json: bool = False,
             signing_key_id: str | None = None, algorithm: str | None = None,
             ) -> requests.Response:
        """POST as Twilio would; `sign_url` signs another URL, `signature` forges one."""
        url, data, headers = signed_webhook(sign_url or self.public_url + path, params,
                                            self.auth_token, as_json=as_json,
                                            signing_key_id=signing_key_id, algorithm=algorithm)
        signed = urlsplit(url)  # the app gets what was signed, on its real address
        target = self.base_url + signed.path + (f"?{signed.query}" if signed.query else "")
        if signature is None:
            del headers["X-Twilio-Signature"]
        elif signature != "valid":
            headers["X-Twilio-Signature"] = signature
        return requests.post(target, data=data, headers=headers, timeout=10)

    def inbound_params(self, phone: str, body: str, sid: str | None = None,
                       **extra: str) -> dict[str, str]:
        return {"From": phone, "To": OUR_NUMBER, "Body": body, "MessageSid": sid or new_sid(),
                "AccountSid": DEFAULT_ACCOUNT_SID, "NumMedia": "0", **extra}

    def text(self, phone: str, body: str, sid: str | None = None,
             **extra: str) -> requests.Response:
        return self.post("/sms/inbound", self.inbound_params(phone, body, sid, **extra))


@contextmanager
def serve(svc: Services) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, create_app(svc), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)


@contextmanager
def answering_here(svc: Services) -> Iterator[WebhookClient]:
    """The web app on a free port, texted through signed webhooks, with no Celery hand-off: a
    caregiver's alert, an escalation and a check-in are sent where the text or status was heard
    (these tests run no broker)."""
    with serve(svc) as base:
        # create_app installed the hand-offs
        svc.care_handoff = svc.review_handoff = svc.checkin_handoff = None
        yield WebhookClient(base, PUBLIC_URL, DEFAULT_AUTH_TOKEN)


def said(response: requests.Response) -> str:
    """The reply text inside a TwiML answer ("" for an empty <Response/>)."""
    found = re.search(r"<Message>(.*)</Message>", response.text, re.S)
    return "" if found is None else html.unescape(found.group(1))
