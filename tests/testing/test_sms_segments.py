"""The segment counter the content checks use (testing/sms_segments.py), against examples
worked out by hand from GSM 03.38 and 3GPP TS 23.040; and the product's own counter
(reminders/domain/gsm.py, which decides the budget of every text) against the same examples."""

from __future__ import annotations

import pytest

from reminders.domain.gsm import count_segments
from testing.sms_segments import Segments, count

GRIN = "\N{GRINNING FACE}"  # outside the BMP: a surrogate pair in UTF-16

KNOWN = [
    # text, encoding, units, segments
    ("", "GSM-7", 0, 1),
    ("a" * 160, "GSM-7", 160, 1),
    ("a" * 161, "GSM-7", 161, 2),
    ("a" * 306, "GSM-7", 306, 2),
    ("a" * 307, "GSM-7", 307, 3),
    ("a" * 459, "GSM-7", 459, 3),
    ("Zoë, tonight: feet up 15 min. Reply STOP to end.", "UCS-2", 48, 1),  # ë is not GSM-7
    ("é" * 160, "GSM-7", 160, 1),  # é is in the default alphabet
    ("€" * 80, "GSM-7", 160, 1),  # each extension character is ESC + code: two septets
    ("€" * 81, "GSM-7", 162, 2),
    ("a" * 159 + "[", "GSM-7", 161, 2),
    ("Use {light} pressure ~ 2 min | a" + "a" * 128, "GSM-7", 164, 2),
    ("a" * 306 + "^", "GSM-7", 308, 3),
    ("ê" * 70, "UCS-2", 70, 1),  # ê is not GSM-7: the whole text goes as UCS-2
    ("ê" * 71, "UCS-2", 71, 2),
    ("ê" * 134, "UCS-2", 134, 2),
    ("ê" * 135, "UCS-2", 135, 3),
    ("it\u2019s " + "a" * 60, "UCS-2", 65, 1),  # one curly apostrophe makes it UCS-2
    ("a" * 69 + GRIN, "UCS-2", 71, 2),  # 70 characters, 71 code units
    (GRIN * 35, "UCS-2", 70, 1),
    ("a" * 130 + GRIN * 2, "UCS-2", 134, 2),
]
# Where a two-unit character meets a part boundary it moves whole to the next part.
BOUNDARY = [
    ("a" * 152 + "[" + "a" * 152, "GSM-7", 306, 3),  # 152 | 2+151 | 1
    ("a" * 66 + GRIN + "a" * 66, "UCS-2", 134, 3),  # 66 | 2+65 | 1
]


def ids(rows: list[tuple[str, str, int, int]]) -> list[str]:
    return [f"{enc}-{units}u-{parts}p-{text[:1].encode('unicode_escape').decode() or 'empty'}"
            for text, enc, units, parts in rows]


@pytest.mark.parametrize(("text", "encoding", "units", "segments"), KNOWN + BOUNDARY,
                         ids=ids(KNOWN + BOUNDARY))
def test_the_test_counter_on_known_texts(text: str, encoding: str, units: int,
                                         segments: int) -> None:
    assert count(text) == Segments(encoding, units, segments)


@pytest.mark.parametrize(("text", "encoding", "units", "segments"), KNOWN + BOUNDARY,
                         ids=ids(KNOWN + BOUNDARY))
def test_the_products_counter_agrees_on_known_texts(text: str, encoding: str, units: int,
                                                    segments: int) -> None:
    found = count_segments(text)
    assert (found.encoding, found.units, found.segments) == (encoding, units, segments)
