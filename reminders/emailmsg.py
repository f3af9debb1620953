"""Turning rendered email text into RFC 5322 messages: multipart, headers, unsubscribe links.

Every nightly email carries List-Unsubscribe (an https link and a mailto) and
List-Unsubscribe-Post: List-Unsubscribe=One-Click (RFC 8058), so mail clients can offer a
one-click unsubscribe that reaches POST /unsubscribe directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from pathlib import Path
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from reminders import tokens
from reminders.render import RenderedEmail


@dataclass(frozen=True)
class EmailComposer:
    public_url: str
    secret_key: str
    sender: str  # EMAIL_FROM
    program_name: str
    templates_dir: Path

    @property
    def domain(self) -> str:
        return self.sender.rpartition("@")[2] or "localhost"

    def unsubscribe_url(self, address: str) -> str:
        token = tokens.make_token(self.secret_key, tokens.UNSUBSCRIBE, address)
        return f"{self.public_url}/unsubscribe?token={token}"

    def confirm_url(self, address: str) -> str:
        token = tokens.make_token(self.secret_key, tokens.CONFIRM_EMAIL, address)
        return f"{self.public_url}/email/confirm?token={token}"

    def _base(self, to: str, subject: str, now: datetime) -> EmailMessage:
        message = EmailMessage()
        message["From"] = formataddr((self.program_name, self.sender))
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = format_datetime(now.astimezone(UTC))
        message["Message-ID"] = make_msgid(domain=self.domain)
        return message

    def nightly(self, to: str, email: RenderedEmail, now: datetime) -> EmailMessage:
        message = self._base(to, email.subject, now)
        token = tokens.make_token(self.secret_key, tokens.UNSUBSCRIBE, to)
        mailto = f"mailto:{self.sender}?subject={quote('unsubscribe ' + token)}"
        message["List-Unsubscribe"] = f"<{self.unsubscribe_url(to)}>, <{mailto}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        message.set_content(email.text)
        message.add_alternative(email.html, subtype="html")
        return message

    def confirmation(self, to: str, now: datetime) -> EmailMessage:
        env = Environment(loader=FileSystemLoader(str(self.templates_dir)),
                          undefined=StrictUndefined,
                          autoescape=lambda name: bool(name and name.endswith(".html.j2")))
        context = {"program_name": self.program_name, "confirm_url": self.confirm_url(to)}
        subject = " ".join(env.get_template("email/confirm_subject.txt.j2").render(**context)
                           .split())
        message = self._base(to, subject, now)
        message.set_content(env.get_template("email/confirm.txt.j2").render(**context))
        message.add_alternative(env.get_template("email/confirm.html.j2").render(
            subject=subject, **context), subtype="html")
        return message
