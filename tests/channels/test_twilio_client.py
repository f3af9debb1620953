"""The Twilio HTTP client reads the proxy settings once, and still honours them."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from reminders.channels.base import SlotMissed
from reminders.channels.twilio_sms import TwilioSms

SID = "AC" + "1" * 32


class _Proxy(BaseHTTPRequestHandler):
    """A forward proxy that answers itself: records the absolute URI it was asked for."""

    seen: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        _Proxy.seen.append(self.path)
        body = json.dumps({"sid": "SM" + "2" * 32, "status": "queued", "num_segments": "1"})
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def proxy() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Proxy)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Proxy.seen = []
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _sms(api_url: str) -> TwilioSms:
    return TwilioSms(SID, "token", "+13125550100", "", api_url, "https://example.org/sms/status",
                     5.0)


def test_a_proxy_from_the_environment_is_used(proxy: str, monkeypatch: pytest.MonkeyPatch
                                              ) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    sms = _sms("http://twilio.example.invalid")
    monkeypatch.delenv("HTTP_PROXY")  # read once, when the client was built
    receipt = sms.send_sms("+13125550142", "hello")
    assert receipt.provider_id == "SM" + "2" * 32
    assert _Proxy.seen == [f"http://twilio.example.invalid/2010-04-01/Accounts/{SID}/Messages.json"]


def test_no_proxy_still_bypasses_it(proxy: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    sms = _sms(proxy)  # the "proxy" server doubles as the API, reached directly
    sms.send_sms("+13125550142", "hello")
    assert _Proxy.seen == [f"/2010-04-01/Accounts/{SID}/Messages.json"]


def test_a_request_later_than_its_slot_never_reaches_the_wire(proxy: str) -> None:
    sms = _sms(proxy)
    with pytest.raises(SlotMissed):
        sms.send_sms("+13125550142", "late", send_by=time.monotonic() - 0.001)
    assert _Proxy.seen == []
    # The next send on the same thread has no slot of its own to miss.
    sms.send_sms("+13125550142", "on time", send_by=time.monotonic() + 5)
    sms.send_sms("+13125550142", "unpaced")
    assert len(_Proxy.seen) == 2
