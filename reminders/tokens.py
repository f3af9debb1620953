"""Signed, tamper-proof tokens for email links (unsubscribe, confirm).

The payload is the recipient's own address, never an internal id; the signature (HMAC with
SECRET_KEY, via itsdangerous) makes a changed token fail. Each purpose has its own salt, so an
unsubscribe token cannot be replayed as a confirmation.
"""

from __future__ import annotations

from itsdangerous import BadSignature, URLSafeSerializer

UNSUBSCRIBE = "unsubscribe"
CONFIRM_EMAIL = "confirm-email"
# Console mode needs no SECRET_KEY; links made there only work on this machine's console.
CONSOLE_SECRET = "console-mode-not-secret"


class BadToken(ValueError):
    """The token was altered, truncated, or made for another purpose."""


def make_token(secret: str, purpose: str, address: str) -> str:
    return str(URLSafeSerializer(secret or CONSOLE_SECRET, salt=purpose).dumps(address))


def read_token(secret: str, purpose: str, token: str) -> str:
    try:
        value = URLSafeSerializer(secret or CONSOLE_SECRET, salt=purpose).loads(token)
    except BadSignature:
        raise BadToken("invalid or altered link") from None
    if not isinstance(value, str) or "@" not in value:
        raise BadToken("invalid link")
    return value
