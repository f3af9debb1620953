"""A care team's webhook receiver for tests: a local HTTP server that checks each POST's
signature as the README tells a receiver to (its own HMAC code, not the sender's), and keeps
what came. `failures` answers the next requests with that status first (503: retried)."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOLERANCE_SECONDS = 300  # a receiver refuses signatures older than this (replays)


@dataclass
class Delivery:
    headers: dict[str, str]
    body: bytes
    valid: bool

    @property
    def json(self) -> Any:
        return json.loads(self.body)


def verify(secret: str, header: str, body: bytes, now: float) -> bool:
    """The receiver's check: t and v1 from the header, v1 == HMAC-SHA256(secret, t + "." +
    body) in constant time, t within TOLERANCE_SECONDS of now."""
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        stamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    expected = hmac.new(secret.encode(), str(stamp).encode() + b"." + body,
                        hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts.get("v1", "")) and abs(now - stamp) <= (
        TOLERANCE_SECONDS)


@dataclass
class Receiver:
    secret: str
    deliveries: list[Delivery] = field(default_factory=list)
    failures: deque[int] = field(default_factory=deque)
    attempts: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver.lock:
                    receiver.attempts += 1
                    status = receiver.failures.popleft() if receiver.failures else 204
                    if status == 204:
                        receiver.deliveries.append(Delivery(
                            dict(self.headers.items()), body,
                            verify(receiver.secret,
                                   self.headers.get("X-Reminders-Signature", ""), body,
                                   time.time())))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/reminders"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
