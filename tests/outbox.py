"""Links in the emails the console backend wrote: what a recipient (or a link scanner) sees."""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import parse_qs, urlparse


def sent_links(files: Iterable[Path]) -> list[str]:
    """Every https link of these .eml files: List-Unsubscribe and the text parts."""
    links: list[str] = []
    for path in sorted(files):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        text = str(message.get("List-Unsubscribe", ""))
        for part in message.walk():
            if part.get_content_type() == "text/plain":
                text += "\n" + str(part.get_content())  # type: ignore[attr-defined]
        links += re.findall(r"https://[^\s<>\"]+", text)
    return links


def emails(outbox: Path) -> set[Path]:
    return set(outbox.glob("email-*.eml"))


def token_of(link: str) -> str:
    return parse_qs(urlparse(link).query)["token"][0]
