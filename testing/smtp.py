"""A real SMTP server (aiosmtpd) on a free port that records mail and can refuse on request."""

from __future__ import annotations

import email
import email.policy
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    raw: bytes


# A fault that accepts the message, then closes the connection before the reply to DATA: what
# the client sees when the link or its own process dies at the worst moment.
DROP_AFTER_DATA = "drop"


class _Handler:
    def __init__(self) -> None:
        self.received: list[Received] = []
        # SMTP replies (or DROP_AFTER_DATA) to give to the next DATA commands
        self.faults: deque[str] = deque()
        self.attempts = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        with self.lock:
            self.attempts += 1
            fault = self.faults.popleft() if self.faults else None
            if fault is not None and fault != DROP_AFTER_DATA:
                return fault
            raw = envelope.original_content or b""
            parsed = email.message_from_bytes(raw, policy=email.policy.default)
            assert isinstance(parsed, EmailMessage)
            self.received.append(Received(str(envelope.mail_from), list(envelope.rcpt_tos),
                                          parsed, raw))
        if fault == DROP_AFTER_DATA:
            assert server.transport is not None
            server.transport.close()  # queued, but the client never hears so
        return "250 2.0.0 OK queued"


class FakeSmtp:
    def __init__(self) -> None:
        self.handler = _Handler()
        with socket.socket() as probe:  # aiosmtpd cannot bind port 0 and report it back
            probe.bind(("127.0.0.1", 0))
            self._port = int(probe.getsockname()[1])
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self._port)

    def start(self) -> FakeSmtp:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    @property
    def port(self) -> int:
        return self._port

    @property
    def messages(self) -> list[Received]:
        with self.handler.lock:
            return list(self.handler.received)

    @property
    def attempts(self) -> int:
        return self.handler.attempts

    def refuse_next(self, reply: str, times: int = 1) -> None:
        """e.g. '451 4.3.0 Try again later' (transient) or '550 5.1.1 No such user'."""
        with self.handler.lock:
            self.handler.faults.extend([reply] * times)

    def drop_after_data(self, times: int = 1) -> None:
        """Accept the next message(s), then drop the connection instead of answering."""
        with self.handler.lock:
            self.handler.faults.extend([DROP_AFTER_DATA] * times)

    def wait_for(self, count: int, timeout: float = 15.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.messages) >= count:
                return self.messages
            time.sleep(0.05)
        raise AssertionError(f"expected {count} emails, got {len(self.messages)}")
