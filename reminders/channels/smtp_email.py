"""Email over SMTP (smtplib): STARTTLS or implicit TLS, optional auth, a timeout on everything.

SMTP replies are sorted the way mail servers mean them: a 5xx answer to RCPT TO or DATA is
permanent (the address bounces, stop mailing it); 4xx and dropped connections are transient
(retry while the evening is young). A refusal of the session itself (the greeting, STARTTLS,
AUTH, MAIL FROM) says nothing about the recipient: it is a fault of our side or of the relay,
retried like a dropped connection and logged as an error, never a reason to mark someone
bouncing. The server's certificate is checked against the system store, or only against
SMTP_CA_FILE when that is set (a relay with a private CA).
`before_data` is called right before the DATA command (after the recipients were accepted), so
the caller can record that this attempt may hand the message over (see message_ids.py).
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from reminders.channels.base import DeliveryError, Recipient

log = logging.getLogger(__name__)

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
        implicit_tls: bool, timeout: float = 20.0, ca_file: Path | None = None,
    ) -> None:
        self.host, self.port = host, port
        self.username, self.password = username, password
        self.starttls, self.implicit_tls = starttls, implicit_tls
        self.timeout = timeout
        self.ca_file = ca_file

    def _connect(self) -> _Smtp | _SmtpSsl:
        # With a cafile, create_default_context trusts that file only, not the system store.
        context = ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file else None)
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
        except smtplib.SMTPDataError as exc:
            raise _by_code(exc.smtp_code, exc.smtp_error) from exc
        except smtplib.SMTPResponseException as exc:
            raise self._session_refused(exc) from exc
        except (TimeoutError, smtplib.SMTPException, OSError) as exc:
            # The connection may have died after DATA: the server may have queued the message.
            raise DeliveryError(f"smtp: {type(exc).__name__}", code="connection",
                                ambiguous=True) from exc
        if refused:
            code, text = next(iter(refused.values()))
            raise _by_code(code, text)
        return str(message["Message-ID"])

    def _session_refused(self, exc: smtplib.SMTPResponseException) -> DeliveryError:
        what = {smtplib.SMTPAuthenticationError: "login (SMTP_USERNAME / SMTP_PASSWORD)",
                smtplib.SMTPSenderRefused: "sender (EMAIL_FROM)"}.get(type(exc), "session")
        detail = _text(exc.smtp_error)
        log.error("smtp %s:%d refused our %s: %d %s", self.host, self.port, what,
                  exc.smtp_code, detail)
        return DeliveryError(f"smtp {exc.smtp_code}: {what} refused: {detail}",
                             code=str(exc.smtp_code))


def _text(raw: bytes | str) -> str:
    return (raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw))[:200]


def _by_code(code: int, text: bytes | str) -> DeliveryError:
    """A reply about this recipient or this message: 5xx is final."""
    final = 500 <= code < 600  # a hard bounce: the address cannot be reached
    return DeliveryError(f"smtp {code}: {_text(text)}", permanent=final, code=str(code),
                         recipient=Recipient.INVALID if final else Recipient.NONE)
