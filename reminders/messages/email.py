"""Turning rendered email text into RFC 5322 messages: multipart, headers, unsubscribe links.

Every nightly email carries List-Unsubscribe (an https link and a mailto) and
List-Unsubscribe-Post: List-Unsubscribe=One-Click (RFC 8058), so mail clients can offer a
one-click unsubscribe that reaches POST /unsubscribe directly. List-Unsubscribe goes on the wire
as plain ASCII (`<https://...>, <mailto:...>`): folded at 78 characters, the email package
would turn the long links into an RFC 2047 encoded-word, which Gmail and Yahoo cannot read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.headerregistry import BaseHeader, HeaderRegistry, UnstructuredHeader
from email.message import EmailMessage
from email.policy import Policy
from email.utils import format_datetime, formataddr, make_msgid
from pathlib import Path
from urllib.parse import quote

from jinja2 import Template

from reminders.domain.subscriber import Subscriber
from reminders.domain.validation import normalise_email
from reminders.messages import tokens
from reminders.messages.environment import environment, localised
from reminders.messages.render import RenderedEmail

# RFC 5322's hard limit for a line; 78 is only a recommendation.
MAX_LINE = 998


class LongLinksHeader(UnstructuredHeader, BaseHeader):
    """An ASCII header folded only at its spaces, and only past MAX_LINE characters."""

    def fold(self, *, policy: Policy) -> str:
        limit = policy.max_line_length
        if limit and limit < MAX_LINE:
            policy = policy.clone(max_line_length=MAX_LINE)
        return str(super().fold(policy=policy))


_HEADERS = HeaderRegistry()
_HEADERS.map_to_type("list-unsubscribe", LongLinksHeader)


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

    def _token(self, purpose: str, sub: Subscriber) -> str:
        assert sub.email is not None
        return tokens.make_token(self.secret_key, purpose, sub.id, sub.email)

    def unsubscribe_url(self, sub: Subscriber) -> str:
        return f"{self.public_url}/unsubscribe?token={self._token(tokens.UNSUBSCRIBE, sub)}"

    def confirm_url(self, sub: Subscriber) -> str:
        return f"{self.public_url}/email/confirm?token={self._token(tokens.CONFIRM_EMAIL, sub)}"

    def _base(self, to: str, subject: str, now: datetime) -> EmailMessage:
        # A stored address is checked again as a new one is (InvalidInput): one kept from before
        # encoded-words and CR/LF were refused would put a second recipient in To, or fail here.
        to = normalise_email(to)
        message = EmailMessage()
        message["From"] = formataddr((self.program_name, self.sender))
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = format_datetime(now.astimezone(UTC))
        message["Message-ID"] = make_msgid(domain=self.domain)
        return message

    def nightly(self, sub: Subscriber, email: RenderedEmail, now: datetime) -> EmailMessage:
        assert sub.email is not None
        message = self._base(sub.email, email.subject, now)
        token = self._token(tokens.UNSUBSCRIBE, sub)
        mailto = f"mailto:{self.sender}?subject={quote('unsubscribe ' + token)}"
        message["List-Unsubscribe"] = _HEADERS(
            "List-Unsubscribe", f"<{self.unsubscribe_url(sub)}>, <{mailto}>")
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        message.set_content(email.text)
        message.add_alternative(email.html, subtype="html")
        return message

    def confirmation(self, sub: Subscriber, now: datetime) -> EmailMessage:
        env = environment(self.templates_dir)
        context = {"program_name": self.program_name, "confirm_url": self.confirm_url(sub)}
        def template(name: str) -> Template:  # the person's language
            return env.get_template(localised(name, sub.language))

        subject = " ".join(template("email/confirm_subject.txt.j2").render(**context).split())
        assert sub.email is not None
        message = self._base(sub.email, subject, now)
        message.set_content(template("email/confirm.txt.j2").render(**context))
        message.add_alternative(template("email/confirm.html.j2").render(
            subject=subject, **context), subtype="html")
        return message
