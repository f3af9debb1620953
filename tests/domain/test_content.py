"""The content library and tonight's selection: rotation, contraindications, reproducibility."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from reminders.domain.content import Allowed, load_library, select
from reminders.settings import PROJECT_ROOT

LIBRARY = load_library(PROJECT_ROOT / "templates" / "content" / "library.toml")
ALL_ITEMS = (*LIBRARY.checks, *LIBRARY.routines, *LIBRARY.tips, *LIBRARY.safety)
START = date(2027, 3, 1)


def test_library_has_enough_of_each_kind_with_ids_and_tags() -> None:
    assert len(LIBRARY.routines) >= 14
    assert len(LIBRARY.tips) >= 10
    assert len(LIBRARY.safety) >= 10
    ids = [item.id for item in ALL_ITEMS]
    assert len(ids) == len(set(ids))
    for item in ALL_ITEMS:
        assert item.tags, item.id
        assert item.kind in ("check", "routine", "tip", "safety")
        for text in (item.text, item.short, item.why):
            assert text.isascii() and not re.search(r"[\^{}\[\]~|\\`]", text), item.id
        assert len(item.short) < len(item.text), item.id


def test_tips_are_about_elevation_or_stretching_or_walking() -> None:
    for tip in LIBRARY.tips:
        assert set(tip.tags) & {"elevation", "stretch", "walk", "mobility"}, tip.id


@pytest.mark.parametrize("heat_ok,massage_ok", [(True, True), (False, True), (True, False),
                                                (False, False)])
def test_no_routine_repeats_within_14_nights(heat_ok: bool, massage_ok: bool) -> None:
    for subscriber_id in ("a1", "b2", "c3", "0123456789ab"):
        allowed = Allowed(heat_ok, massage_ok)
        routines = [select(LIBRARY, subscriber_id, START + timedelta(days=n), allowed).routine.id
                    for n in range(120)]
        for n in range(len(routines) - 13):
            window = routines[n:n + 14]
            assert len(set(window)) == 14, (subscriber_id, n, window)


def test_selection_is_reproducible_for_a_date_and_differs_between_people() -> None:
    plain = Allowed(False, True)
    first = [select(LIBRARY, "abc", START + timedelta(days=n), plain) for n in range(30)]
    again = [select(LIBRARY, "abc", START + timedelta(days=n), plain) for n in range(30)]
    other = [select(LIBRARY, "xyz", START + timedelta(days=n), plain) for n in range(30)]
    assert first == again
    assert [s.routine.id for s in first] != [s.routine.id for s in other]


def test_massage_not_ok_means_no_massage_and_still_a_safety_note() -> None:
    for n in range(200):
        chosen = select(LIBRARY, "nomassage", START + timedelta(days=n), Allowed(True, False))
        for item in chosen.items:
            assert "massage" not in item.tags, item.id
        assert chosen.safety.kind == "safety"
        assert set(chosen.routine.tags) & {"stretch", "elevation", "mobility", "walk", "skin",
                                           "footwear", "breathing", "rest", "heat", "water",
                                           "nails"}


def test_heat_not_ok_means_nothing_that_uses_heat() -> None:
    seen_heat_when_allowed = False
    for n in range(200):
        day = START + timedelta(days=n)
        for item in select(LIBRARY, "noheat", day, Allowed(False, True)).items:
            assert "heat" not in item.tags, item.id
        if any("heat" in i.tags for i in select(LIBRARY, "noheat", day, Allowed(True, True)).items):
            seen_heat_when_allowed = True
    assert seen_heat_when_allowed  # the filter is what removes it, not an empty library


def test_a_heat_routine_comes_with_the_test_the_water_note() -> None:
    heat_routine_nights = 0
    for n in range(400):
        chosen = select(LIBRARY, "warm", START + timedelta(days=n), Allowed(True, True))
        if "heat" in chosen.routine.tags:
            heat_routine_nights += 1
            assert "water" in chosen.safety.tags, chosen
    assert heat_routine_nights > 0
