"""Redis replies to Python text: the one place bytes become str (the client does not decode,
so binary-safe fields and hiredis' speed are kept)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def text(value: Any) -> str:
    """A reply value as text ("" for nil)."""
    if isinstance(value, bytes):
        return value.decode()
    return "" if value is None else str(value)


def text_hash(raw: Mapping[Any, Any]) -> dict[str, str]:
    """A HGETALL reply as a dict of text."""
    return {text(k): text(v) for k, v in raw.items()}
