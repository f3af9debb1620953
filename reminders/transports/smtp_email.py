"""Email over SMTP (smtplib): STARTTLS or implicit TLS, optional auth, a timeout on everything.

SMTP replies are sorted the way mail servers mean them: 5xx is permanent (the address bounces,
stop mailing it), 4xx and dropped connections are transient (retry while the evening is young).
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage

from reminders.transports.base import DeliveryError


class SmtpEmail:
    def __init__(
        self, host: str, port: int, username: str, password: str, starttls: bool,
        implicit_tls: bool, timeout: float = 20.0,
    ) -> None:
        self.host, self.port = host, port
        self.username, self.password = username, password
        self.starttls, self.implicit_tls = starttls, implicit_tls
        self.timeout = timeout

    def _connect(self) -> smtplib.SMTP:
        context = ssl.create_default_context()
        if self.implicit_tls:
            return smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        if self.starttls:
            client.starttls(context=context)
        return client

    def send_email(self, message: EmailMessage) -> str:
        try:
            with self._connect() as client:
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
