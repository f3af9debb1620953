"""Email over SMTP (smtplib): STARTTLS or implicit TLS, optional auth, a timeout on everything.

SMTP replies are sorted the way mail servers mean them: 5xx is permanent (the address bounces,
stop mailing it), 4xx and dropped connections are transient (retry while the evening is young).
`before_data` is called right before the DATA command (after the recipients were accepted), so
the caller can record that this attempt may hand the message over (see nightly_email.py).
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable
from email.message import EmailMessage
from typing import Any

from reminders.channels.base import DeliveryError

BeforeData = Callable[[], None] | None


class _HookedData:
    """smtplib's client, calling `before_data` once just before it sends DATA."""

    before_data: BeforeData = None

    def data(self, msg: Any) -> tuple[int, bytes]:
        if self.before_data is not None:
            self.before_data()
        return super().data(msg)  # type: ignore[misc]


class _Smtp(_HookedData, smtplib.SMTP):
    pass


class _SmtpSsl(_HookedData, smtplib.SMTP_SSL):
    pass


class SmtpEmail:
    def __init__(
        self, host: str, port: int, username: str, password: str, starttls: bool,
        implicit_tls: bool, timeout: float = 20.0,
    ) -> None:
        self.host, self.port = host, port
        self.username, self.password = username, password
        self.starttls, self.implicit_tls = starttls, implicit_tls
        self.timeout = timeout

    def _connect(self) -> _Smtp | _SmtpSsl:
        context = ssl.create_default_context()
        if self.implicit_tls:
            return _SmtpSsl(self.host, self.port, timeout=self.timeout, context=context)
        client = _Smtp(self.host, self.port, timeout=self.timeout)
        if self.starttls:
            client.starttls(context=context)
        return client

    def send_email(self, message: EmailMessage, before_data: BeforeData = None) -> str:
        try:
            with self._connect() as client:
                client.before_data = before_data
                if self.username:
                    client.login(self.username, self.password)
                refused = client.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            raise _by_code(code, text) from exc
        except smtplib.SMTPResponseException as exc:
            raise _by_code(exc.smtp_code, exc.smtp_error) from exc
        except (TimeoutError, smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"smtp: {type(exc).__name__}", code="connection") from exc
        if refused:
            code, text = next(iter(refused.values()))
            raise _by_code(code, text)
        return str(message["Message-ID"])


def _by_code(code: int, text: bytes | str) -> DeliveryError:
    detail = text.decode(errors="replace") if isinstance(text, bytes) else str(text)
    return DeliveryError(f"smtp {code}: {detail[:200]}", permanent=500 <= code < 600,
                         code=str(code))
