"""The access-log mask reads a long line in linear work (the 60 kB GET that held the dev server).

A 60 kB URL of letters with no @ made the address pattern try a match from each of the 60,000
starts to the end of the line: 1.8 billion steps, about 4 s before werkzeug could log and
answer. Python's `re` has no step counter, so the bound is checked on the pattern itself, with
the parser `re` compiles from: a match can start only where a run of local-part characters
starts, and no repeat over characters gives anything back (possessive), so no position is read
more than a fixed number of times. Timing is the benchmark's (`python -m benchmarks --only
log_mask`), never an assertion here.
"""

from __future__ import annotations

import logging
import re
from re import _constants as sre_constants  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

import pytest

from reminders.entry.web.app import TokenMask
from reminders.logs import _EMAIL, mask


def _repeats(parsed: Any) -> list[tuple[Any, Any]]:
    """Every (repeat opcode, repeated item) in a parsed pattern, nested ones included."""
    found = []
    for op, value in parsed:
        if op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT,
                  sre_constants.POSSESSIVE_REPEAT):
            found.append((op, value[2]))
            found += _repeats(value[2])
        elif op == sre_constants.SUBPATTERN:
            found += _repeats(value[-1])
        elif op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT):
            found += _repeats(value[1])
    return found


def _is_characters(item: Any) -> bool:
    return all(op in (sre_constants.IN, sre_constants.LITERAL) for op, _ in item)


def test_no_repeat_over_characters_gives_anything_back() -> None:
    parsed = sre_parse.parse(_EMAIL.pattern)
    character_repeats = [(op, item) for op, item in _repeats(parsed) if _is_characters(item)]
    assert len(character_repeats) >= 3  # the local part's run and the domain's labels
    for op, item in character_repeats:
        assert op == sre_constants.POSSESSIVE_REPEAT, f"backtracking repeat over {item}"


def test_a_match_starts_only_where_a_run_of_local_part_characters_starts() -> None:
    parsed = list(sre_parse.parse(_EMAIL.pattern))
    op, (direction, lookbehind) = parsed[0]
    assert op == sre_constants.ASSERT_NOT and direction == -1  # (?<!...)
    (first_op, first_set), = parsed[1][1][-1]  # the first group's one character class
    assert first_op == sre_constants.IN and list(lookbehind) == [(first_op, first_set)]


LONG = 60_000


@pytest.mark.parametrize("filler", ["a", "a.", "1", "a@", "x@y."])
def test_a_60_kB_line_still_masks_what_it_holds(filler: str) -> None:
    # Found whole at either end of a long run, and never split inside it.
    run = filler * (LONG // len(filler))
    line = f"ana.lima@example.org {run} +13125550123 bea@example.com"
    masked = mask(line)
    assert "ana.lima" not in masked and "5550123" not in masked and "bea@" not in masked
    assert masked.startswith("a[...]@example.org ") and masked.endswith(" b[...]@example.com")


def test_the_access_log_line_of_a_60_kB_get_is_masked() -> None:
    query = "a" * LONG + "%20ana.lima%40example.org"
    record = logging.LogRecord("werkzeug", logging.INFO, __file__, 1,
                               '127.0.0.1 - - "GET /console/people?q=%s HTTP/1.1" 302 -',
                               (query,), None)
    assert TokenMask().filter(record)
    assert "ana.lima" not in record.getMessage() and "a[...]@example.org" in record.getMessage()


def test_the_masks_answers_are_those_of_a_plain_reading() -> None:
    # What the possessive, anchored pattern finds is what the plain one found.
    plain = re.compile(r"([A-Za-z0-9.!#$%&'*+/=?^_`{|}~-])[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]*"
                       r"@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)")
    for text in ["to j{x}@ex.co.uk.", "a@b", "x o'brien@a.b, c@d.e@f.g", "@@a@b.c..d",
                 "ana+tag@example.org>", "..a.@b-c.d-", "<a@b.c><d@e.f>", "1@2.3 a@@b.c"]:
        assert [m.groups() for m in _EMAIL.finditer(text)] == [
            m.groups() for m in plain.finditer(text)], text
