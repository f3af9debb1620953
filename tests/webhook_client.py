"""Post signed webhooks the way Twilio does: signature computed for the public URL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import requests
from twilio.request_validator import RequestValidator
from werkzeug.serving import make_server

from reminders.services import Services
from reminders.web import create_app


@dataclass
class WebhookClient:
    base_url: str  # where the app really listens (behind the "proxy")
    public_url: str  # what Twilio was told, and signs
    auth_token: str

    def post(self, path: str, params: dict[str, str], signature: str | None = "valid",
             sign_url: str | None = None) -> requests.Response:
        headers = {}
        if signature == "valid":
            url = sign_url or self.public_url + path
            headers["X-Twilio-Signature"] = RequestValidator(self.auth_token).compute_signature(
                url, params)
        elif signature is not None:
            headers["X-Twilio-Signature"] = signature
        return requests.post(self.base_url + path, data=params, headers=headers, timeout=10)

    def text(self, phone: str, body: str, **extra: str) -> requests.Response:
        params = {"From": phone, "To": "+15005550006", "Body": body, "MessageSid":
                  "SM" + "0" * 32, "AccountSid": "AC" + "0" * 32, "NumMedia": "0", **extra}
        return self.post("/sms/inbound", params)


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
