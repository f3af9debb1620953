"""GSM 03.38 (GSM-7): which characters fit, how many segments a text costs, and normalising.

One character outside GSM-7 turns a whole SMS into UCS-2 (70/67 characters a segment instead of
160/153), so every outgoing text is normalised: typographic punctuation becomes its plain
equivalent, accented letters GSM-7 lacks lose their accent, and what cannot be written (emoji)
is dropped.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass

from unidecode import unidecode

GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Reached through the escape character: each costs two septets.
GSM_EXTENDED = frozenset("^{}\\[~]|€\f")

_PLAIN = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "`": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2033": '"', "\u00ab": '"', "\u00bb": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-",
    "\u2212": "-", "\u2026": "...", "\u2022": "-", "\u00b7": "-", "\t": " ",
}


@dataclass(frozen=True)
class SegmentCount:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2
    segments: int


# One regex scan is ~20x faster than a per-character Python loop (render is on the hot path).
_NOT_GSM = re.compile("[^" + re.escape("".join(sorted(GSM_BASIC | GSM_EXTENDED))) + "]")
_EXTENDED = re.compile("[" + re.escape("".join(sorted(GSM_EXTENDED))) + "]")
_NOT_BASIC = re.compile("[^" + re.escape("".join(sorted(GSM_BASIC))) + "]")


def is_gsm7(text: str) -> bool:
    return _NOT_GSM.search(text) is None


def count_segments(text: str) -> SegmentCount:
    if is_gsm7(text):
        wide = len(_EXTENDED.findall(text))  # escape + code: two septets each
        units = len(text) + wide
        single, multi, encoding = 160, 153, "GSM-7"
    else:
        units = len(text.encode("utf-16-le")) // 2
        wide = units - len(text)  # astral characters (emoji): a surrogate pair each
        single, multi, encoding = 70, 67, "UCS-2"
    if units <= single:
        segments = 1
    elif not wide:
        segments = math.ceil(units / multi)
    else:
        segments = _packed(text, multi, encoding)
    return SegmentCount(encoding, units, segments)


def _packed(text: str, multi: int, encoding: str) -> int:
    """Parts of a concatenated text with two-unit characters: an escape pair or a surrogate
    pair is never split across parts (3GPP TS 23.040), so one may start the next part early."""
    parts, used = 1, 0
    for ch in text:
        width = 2 if (ch in GSM_EXTENDED if encoding == "GSM-7" else ord(ch) > 0xFFFF) else 1
        if used + width > multi:
            parts, used = parts + 1, 0
        used += width
    return parts


def _plain_char(ch: str) -> str:
    if ch in GSM_BASIC or ch in GSM_EXTENDED:
        return ch
    if ch in _PLAIN:
        return _PLAIN[ch]
    if unicodedata.category(ch) in ("Zs", "Zl", "Zp"):
        return " "
    if unicodedata.category(ch).startswith("C"):
        return ""  # control and format characters (zero-width joiners, BOM, ...)
    stripped = "".join(c for c in unicodedata.normalize("NFD", ch) if not unicodedata.combining(c))
    if stripped and all(c in GSM_BASIC for c in stripped):
        return stripped
    ascii_form = unidecode(ch)
    return "".join(c for c in ascii_form if c in GSM_BASIC)


def to_gsm7(text: str) -> str:
    """The closest GSM-7 text: never UCS-2, never an extension character we did not ask for."""
    if _NOT_BASIC.search(text) is None and "  " not in text and " \n" not in text:
        return text.strip()  # already plain GSM-7 (the usual case): nothing to do
    out = "".join(_plain_char(ch) for ch in unicodedata.normalize("NFC", text))
    # Dropped emoji can leave double spaces behind; keep line breaks as they are.
    lines = [" ".join(line.split(" ")).strip() for line in out.split("\n")]
    return "\n".join(" ".join(part for part in line.split(" ") if part) for line in lines)
