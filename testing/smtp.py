"""A real SMTP server (aiosmtpd) on a free port that records mail and can refuse on request.

Plain by default; `FakeSmtp.submission(tmp_path)` is what a mail provider's submission port
looks like (the service's default settings): STARTTLS with a certificate the test made (the
client must be told to trust it), and AUTH required, only over TLS.
"""

from __future__ import annotations

import email
import email.policy
import socket
import ssl
import subprocess
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    raw: bytes
    tls: bool = False  # the message came over a connection upgraded by STARTTLS
    login: str | None = None  # the AUTH user name, when the client logged in


@dataclass
class Rcpt:
    """One RCPT TO the server answered, and how."""

    address: str
    reply: str


# A fault that accepts the message, then closes the connection before the reply to DATA: what
# the client sees when the link or its own process dies at the worst moment.
DROP_AFTER_DATA = "drop"


@dataclass
class _Handler:
    received: list[Received] = field(default_factory=list)
    # SMTP replies (or DROP_AFTER_DATA) to give to the next DATA commands
    faults: deque[str] = field(default_factory=deque)
    # address -> the reply its RCPT TO gets (e.g. '550 5.1.1 No such user')
    refused_rcpt: dict[str, str] = field(default_factory=dict)
    rcpts: list[Rcpt] = field(default_factory=list)
    attempts: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str, rcpt_options: list[str]) -> str:
        with self.lock:
            reply = self.refused_rcpt.get(address.lower())
            self.rcpts.append(Rcpt(address, reply or "250 OK"))
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        with self.lock:
            self.attempts += 1
            fault = self.faults.popleft() if self.faults else None
            if fault is not None and fault != DROP_AFTER_DATA:
                return fault
            raw = envelope.original_content or b""
            parsed = email.message_from_bytes(raw, policy=email.policy.default)
            assert isinstance(parsed, EmailMessage)
            auth: Any = session.auth_data  # aiosmtpd's LoginPassword when AUTH succeeded
            login = auth.login.decode() if session.authenticated and auth else None
            self.received.append(Received(str(envelope.mail_from), list(envelope.rcpt_tos),
                                          parsed, raw, session.ssl is not None, login))
        if fault == DROP_AFTER_DATA:
            assert server.transport is not None
            server.transport.close()  # queued, but the client never hears so
        return "250 2.0.0 OK queued"


def self_signed_certificate(directory: Path, host: str = "127.0.0.1") -> tuple[Path, Path]:
    """A throw-away certificate for `host` (as an IP address SAN) and its key, made by openssl.

    The certificate is its own CA: a client trusts it only when told to (SMTP_CA_FILE).
    """
    cert, key = directory / "smtp-cert.pem", directory / "smtp-key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-keyout", str(key), "-out", str(cert), "-subj", f"/CN={host}",
         "-addext", f"subjectAltName=IP:{host}"],
        check=True, capture_output=True, timeout=60,
    )
    return cert, key


class FakeSmtp:
    def __init__(self, tls_files: tuple[Path, Path] | None = None,
                 users: dict[str, str] | None = None) -> None:
        self.handler = _Handler()
        self.users = dict(users or {})
        self.cert_file = tls_files[0] if tls_files else None
        with socket.socket() as probe:  # aiosmtpd cannot bind port 0 and report it back
            probe.bind(("127.0.0.1", 0))
            self._port = int(probe.getsockname()[1])
        options: dict[str, Any] = {}
        if tls_files is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(*tls_files)
            options |= {"tls_context": context, "require_starttls": True}
        if users:
            options |= {"authenticator": self._authenticate, "auth_required": True,
                        "auth_require_tls": tls_files is not None}
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self._port,
                                     **options)

    @classmethod
    def submission(cls, directory: Path, user: str = "reminders",
                   password: str = "s3cret") -> FakeSmtp:
        """STARTTLS required (a certificate made for the test) and AUTH required."""
        return cls(self_signed_certificate(directory), {user: password})

    def _authenticate(self, server: SMTP, session: Session, envelope: Envelope,
                      mechanism: str, auth_data: Any) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        user, password = auth_data.login.decode(), auth_data.password.decode()
        return AuthResult(success=self.users.get(user) == password, handled=False,
                          auth_data=auth_data)

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

    @property
    def rcpts(self) -> list[Rcpt]:
        """Every RCPT TO answered so far, accepted or refused."""
        with self.handler.lock:
            return list(self.handler.rcpts)

    def refuse_next(self, reply: str, times: int = 1) -> None:
        """e.g. '451 4.3.0 Try again later' (transient) or '550 5.1.1 No such user'."""
        with self.handler.lock:
            self.handler.faults.extend([reply] * times)

    def refuse_recipient(self, address: str, reply: str = "550 5.1.1 No such user") -> None:
        """Answer RCPT TO for `address` with `reply`, as a server that knows its mailboxes."""
        with self.handler.lock:
            self.handler.refused_rcpt[address.lower()] = reply

    def accept_recipient(self, address: str) -> None:
        """Undo `refuse_recipient`: the mailbox is back."""
        with self.handler.lock:
            self.handler.refused_rcpt.pop(address.lower(), None)

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
