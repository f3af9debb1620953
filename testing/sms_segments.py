"""An SMS segment counter for tests, written apart from reminders/domain/gsm.py on purpose.

Tests that check the product's texts against the segment budget must not count with the
product's own counter: a bug there would hide itself. This one works from the standards:

- GSM 03.38 default alphabet (7-bit, 128 characters, laid out as the table is) and its
  extension table, each extension character sent as ESC + its code (two septets);
- a text that is not all GSM-7 goes as UCS-2, which phones and Twilio treat as UTF-16: a
  character outside the Basic Multilingual Plane (most emoji) takes two code units;
- one segment holds 160 septets / 70 code units; a concatenated message needs a 6-byte user
  data header, leaving 153 septets / 67 code units a part, and an escape pair or a surrogate
  pair is never split across two parts (3GPP TS 23.040; what Twilio bills).
"""

from __future__ import annotations

from dataclasses import dataclass

# GSM 03.38 default alphabet, 0x00-0x7F in order (0x1B is the escape, not a character).
GSM_DEFAULT = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
ESCAPE = 0x1B
# The extension table: character -> code after the escape.
GSM_EXTENSION = {"\f": 0x0A, "^": 0x14, "{": 0x28, "}": 0x29, "\\": 0x2F, "[": 0x3C,
                 "~": 0x3D, "]": 0x3E, "|": 0x40, "€": 0x65}

assert len(GSM_DEFAULT) == 128


@dataclass(frozen=True)
class Segments:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int


def gsm7_septets(text: str) -> list[int] | None:
    """The text as GSM-7 septet codes, or None when some character needs UCS-2."""
    out: list[int] = []
    for ch in text:
        if ch in GSM_EXTENSION:
            out += [ESCAPE, GSM_EXTENSION[ch]]
        elif ch != "\x1b" and ch in GSM_DEFAULT:
            out.append(GSM_DEFAULT.index(ch))
        else:
            return None
    return out


def _parts(widths: list[int], single: int, multi: int) -> int:
    """Parts needed for characters of these widths, never splitting one character."""
    if sum(widths) <= single:
        return 1
    parts, used = 1, 0
    for width in widths:
        if used + width > multi:
            parts, used = parts + 1, 0
        used += width
    return parts


def count(text: str) -> Segments:
    """How the text travels: its encoding, its length in that encoding's units, its parts."""
    septets = gsm7_septets(text)
    if septets is not None:
        widths = [2 if ch in GSM_EXTENSION else 1 for ch in text]
        return Segments("GSM-7", len(septets), _parts(widths, 160, 153))
    widths = [len(ch.encode("utf-16-le")) // 2 for ch in text]
    return Segments("UCS-2", sum(widths), _parts(widths, 70, 67))
