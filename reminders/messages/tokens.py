"""Signed, opaque tokens for email links (unsubscribe, confirm).

A token is `<subscriber id>.<address tag>.<signature>`: the id is random and meaningless, the
tag a keyed digest of the address the email went to (HMAC-SHA256 with SECRET_KEY, cut to 64
bits), and itsdangerous signs both. Nothing in it reads as the address, a changed token fails,
and the tag ties the link to that one address: once the person changes their address, an old
confirmation link cannot confirm the new one. Each purpose has its own salt, so an unsubscribe
token cannot be replayed as a confirmation.

A token also carries the time it was issued (`<id>.<tag>.<issued>.<signature>`, the time in
base 36 seconds) and is refused as expired after LINK_LIFETIME_SECONDS (a year): a link found in
an old mailbox, or forwarded, stops working by itself. Expired links are told apart from altered
ones, so the page can say what to do instead.

Links mailed before tokens carried a time (`<id>.<tag>.<signature>`), and before that the ones
that signed the address itself (base64, readable), are still accepted without a date, so an old
email's unsubscribe link keeps working; neither is issued any more.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from dataclasses import dataclass

from itsdangerous import BadSignature, Signer, URLSafeSerializer

UNSUBSCRIBE = "unsubscribe"
CONFIRM_EMAIL = "confirm-email"
LINK_LIFETIME_SECONDS = 365 * 24 * 3600
_VALUE = re.compile(r"([A-Za-z0-9_-]{1,64})\.([0-9a-f]{16})")
_DATED = re.compile(r"([A-Za-z0-9_-]{1,64})\.([0-9a-f]{16})\.([0-9a-z]{1,10})")


class BadToken(ValueError):
    """The token was altered, truncated, or made for another purpose."""


class ExpiredToken(BadToken):
    """A genuine token, issued more than LINK_LIFETIME_SECONDS ago."""


@dataclass(frozen=True)
class Link:
    """What a valid token names: a subscriber and an address tag, or (old links) an address."""

    subscriber_id: str | None = None
    address_tag: str = ""
    address: str | None = None  # links in the old format only

    def is_for(self, secret: str, address: str) -> bool:
        if self.address is not None:
            return self.address.lower() == address.lower()
        return hmac.compare_digest(self.address_tag, address_tag(secret, address))


def _key(secret: str) -> str:
    # Settings always hold a key (console mode: a random one kept under var/, settings.py).
    if not secret:
        raise ValueError("link tokens need a secret key")
    return secret


def address_tag(secret: str, address: str) -> str:
    key = _key(secret).encode()
    return hmac.new(key, b"email-link:" + address.lower().encode(), hashlib.sha256).hexdigest()[:16]


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    text = ""
    while True:
        number, rest = divmod(number, 36)
        text = digits[rest] + text
        if not number:
            return text


def make_token(secret: str, purpose: str, subscriber_id: str, address: str,
               issued: float | None = None) -> str:
    """A link token; `issued` (epoch seconds) is now unless given."""
    when = int(time.time() if issued is None else issued)
    value = f"{subscriber_id}.{address_tag(secret, address)}.{_base36(max(when, 0))}"
    return Signer(_key(secret), salt=f"{purpose}:v3").sign(value).decode()


def read_token(secret: str, purpose: str, token: str, now: float | None = None) -> Link:
    """What the token names; BadToken if altered, ExpiredToken if older than a year."""
    try:
        value = Signer(_key(secret), salt=f"{purpose}:v3").unsign(token).decode()
    except (BadSignature, UnicodeError):
        return _read_undated_token(secret, purpose, token)
    match = _DATED.fullmatch(value)
    if match is None:
        raise BadToken("invalid link")
    age = (time.time() if now is None else now) - int(match.group(3), 36)
    if age > LINK_LIFETIME_SECONDS:
        raise ExpiredToken("this link has expired")
    return Link(subscriber_id=match.group(1), address_tag=match.group(2))


def _read_undated_token(secret: str, purpose: str, token: str) -> Link:
    """Links issued before tokens carried a time: valid without a date (see the docstring)."""
    try:
        value = Signer(_key(secret), salt=f"{purpose}:v2").unsign(token).decode()
    except (BadSignature, UnicodeError):
        return _read_old_token(secret, purpose, token)
    match = _VALUE.fullmatch(value)
    if match is None:
        raise BadToken("invalid link")
    return Link(subscriber_id=match.group(1), address_tag=match.group(2))


def _read_old_token(secret: str, purpose: str, token: str) -> Link:
    try:
        value = URLSafeSerializer(_key(secret), salt=purpose).loads(token)
    except (BadSignature, UnicodeError):
        raise BadToken("invalid or altered link") from None
    if not isinstance(value, str) or "@" not in value:
        raise BadToken("invalid link")
    return Link(address=value)
