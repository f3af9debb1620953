"""A full year of nightly texts for a varied set of people: every one GSM-7, within budget.

The segment counter here is written independently of reminders.gsm on purpose: it works from the
GSM 03.38 tables as bytes of septets, so a bug in our counter cannot hide itself.
"""

from __future__ import annotations

import itertools
from datetime import date, time

import pytest

from reminders.domain.channels import parse_set
from reminders.domain.subscriber import Subscriber
from reminders.messages.render import Renderer
from reminders.settings import PROJECT_ROOT
from tests import sweep

# GSM 03.38 default alphabet, row by row as the standard lays it out (0x00-0x7F).
GSM_TABLE = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_ESCAPED = {"\f": 0x0A, "^": 0x14, "{": 0x28, "}": 0x29, "\\": 0x2F, "[": 0x3C, "~": 0x3D,
               "]": 0x3E, "|": 0x40, "€": 0x65}


def septets(text: str) -> list[int] | None:
    """Encode as GSM-7 septets, or None if any character needs UCS-2."""
    out: list[int] = []
    for ch in text:
        if ch in GSM_ESCAPED:
            out += [0x1B, GSM_ESCAPED[ch]]
        elif ch in GSM_TABLE and ch != "\x1b":
            out.append(GSM_TABLE.index(ch))
        else:
            return None
    return out


def independent_segments(text: str) -> int:
    encoded = septets(text)
    assert encoded is not None, f"not GSM-7: {[c for c in text if septets(c) is None]}"
    if len(encoded) <= 160:
        return 1
    # Concatenated SMS: 153 septets a part, and an escape pair is never split across parts.
    parts, used = 1, 0
    i = 0
    while i < len(encoded):
        width = 2 if encoded[i] == 0x1B else 1
        if used + width > 153:
            parts, used = parts + 1, 0
        used += width
        i += width
    return parts


NAMES = [
    "", "Al", "Zoë", "José María", "Łukasz Wójcik", "Ngọc Trâm", "山田 太郎", "Ана",
    "Bartholomew-Maximilian Featherstonehaugh", "O'Brien", "Renée “Rae” Dubois", "😀 Sam",
    "Nguyễn", "Χαρά", "Siobhán", "Åsa", "Dr. Abcdefghijklmnopqrstuvwxyz",
]


def people() -> list[Subscriber]:
    result = []
    flags = list(itertools.product([True, False], repeat=2))
    for index, name in enumerate(NAMES):
        heat_ok, massage_ok = flags[index % len(flags)]
        result.append(Subscriber(
            id=f"sub{index:03d}", phone="+13125550142", email=None, name=name,
            timezone="America/Chicago", send_time=time(20, 0), channels=parse_set("sms"),
            sms_status="active", heat_ok=heat_ok, massage_ok=massage_ok,
        ))
    return result


@pytest.mark.parametrize("max_segments", [2, 3])
def test_every_text_of_a_year_fits_the_budget(max_segments: int) -> None:
    renderer = Renderer(PROJECT_ROOT / "templates", "Foot Care Reminders", max_segments)
    days = sweep.year()  # every evening of 2027 (every 5th under make check)
    checked = 0
    for sub in people():
        for day in days:
            tonight = renderer.tonight(sub, day)
            body = tonight.sms.body
            assert independent_segments(body) <= max_segments, (sub.name, day, body)
            assert independent_segments(body) == tonight.sms.segments
            assert tonight.sms.encoding == "GSM-7"
            # Never cut mid-sentence: every item's wording is whole in the body.
            for text in tonight.sms.texts:
                assert text in body and text.endswith((".", "?"))
            assert body.rstrip().endswith("STOP to end.")
            checked += 1
    assert checked == len(NAMES) * len(days)


def test_one_segment_budget_is_refused_loudly_rather_than_cut() -> None:
    from reminders.messages.render import BudgetError

    renderer = Renderer(PROJECT_ROOT / "templates", "Foot Care Reminders", 1)
    with pytest.raises(BudgetError):
        renderer.tonight(people()[0], date(2027, 1, 1))


def test_independent_counter_agrees_on_known_cases() -> None:
    assert independent_segments("a" * 160) == 1
    assert independent_segments("a" * 161) == 2
    assert independent_segments("a" * 306) == 2
    assert independent_segments("a" * 307) == 3
    assert independent_segments("€" * 80) == 1  # 160 septets
    assert septets("it\u2019s") is None  # a curly apostrophe forces UCS-2
