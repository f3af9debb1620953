"""The hotspot rule and the TEMP texts people send, written from the clinical sources (Lavery
2004, DIATEMP, IWGDF 2023: a left-right difference over 2.2 °C / 4 °F at the same site on two
consecutive days) and from how people type, not from the code under test."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from reminders.domain.keywords import normalise
from reminders.domain.keywords_es import fold
from reminders.domain.temperature import (
    Problem,
    Reading,
    Unit,
    Verdict,
    differences,
    parse,
    verdict,
)

MON = date(2027, 3, 1)


def read(text: str) -> Reading | Problem:
    return parse(fold(normalise(text)))


@pytest.mark.parametrize(("text", "left", "right", "unit"), [
    ("TEMP 88 92", 88, 92, "F"),
    ("temp 88 92", 88, 92, "F"),
    ("Temp: 88, 92", 88, 92, "F"),
    ("TEMP 88/92", 88, 92, "F"),
    ("TEMP L 31.2 R 33.8", 31.2, 33.8, "C"),
    ("TEMP R 33.8 L 31.2", 31.2, 33.8, "C"),  # either order with L/R
    ("temp l31.2 r33.8", 31.2, 33.8, "C"),
    ("TEMP left 88 right 92", 88, 92, "F"),
    ("TEMP right 92 left 88 F", 88, 92, "F"),
    ("TEMP 88F 92F", 88, 92, "F"),
    ("TEMP 88° 92°", 88, 92, "F"),
    ("TEMP IZQ 31 DER 33", 31, 33, "C"),
    ("temp der 33 izq 31", 31, 33, "C"),
    ("TEMP izquierdo 31,5 derecho 33,9", 31.5, 33.9, "C"),  # Spanish decimal comma
    ("TEMPERATURA I 31 D 33 grados", 31, 33, "C"),
    ("temperature 31.0 30.5 C", 31.0, 30.5, "C"),
    ("tmp 88 92", 88, 92, "F"),  # misspellings people make
    ("tempature 88 92", 88, 92, "F"),
    ("temps 88 92", 88, 92, "F"),
    ("TEMP 88 92 thanks", 88, 92, "F"),
])
def test_readings_people_send(text: str, left: float, right: float, unit: str) -> None:
    assert read(text) == Reading(left, right, Unit(unit))


@pytest.mark.parametrize("text", [
    "TEMP", "TEMP 88", "TEMP 88 92 95", "TEMP L 31 33", "TEMP L 31 L 33",
    "temp feels hot", "TEMP left foot warm",
])
def test_not_a_reading_asks_for_the_format(text: str) -> None:
    assert read(text) == Problem.FORMAT


@pytest.mark.parametrize("text", [
    "TEMP 101 102",  # a body temperature (a fever), not foot skin
    "TEMP 38 39",  # Celsius, but above plausible foot skin
    "TEMP 12 13",  # too cold to be skin
    "TEMP 31 88",  # a Celsius and a Fahrenheit value
    "TEMP 880 920",  # a missing decimal point
    "TEMP 31 33 F",  # says Fahrenheit, values are Celsius
])
def test_implausible_values_are_questioned(text: str) -> None:
    assert read(text) == Problem.IMPLAUSIBLE


def test_threshold_celsius_exactly_two_point_two_is_not_over() -> None:
    assert not Reading(30.0, 32.2, Unit.C).over
    assert Reading(30.0, 32.3, Unit.C).over


def test_threshold_fahrenheit_exactly_four_is_not_over() -> None:
    assert not Reading(88.0, 92.0, Unit.F).over
    assert Reading(88.0, 92.1, Unit.F).over


def test_fahrenheit_difference_converts_to_celsius() -> None:
    assert Reading(88.0, 92.5, Unit.F).difference_c == 2.5  # 4.5 F
    assert Reading(31.2, 33.8, Unit.C).difference_c == 2.6


def test_two_consecutive_evenings_over_are_a_hotspot() -> None:
    first = Reading(30.0, 32.5, Unit.C)
    assert verdict(first, MON, {}) == Verdict.REMEASURE
    assert verdict(Reading(30.1, 32.6, Unit.C), MON + timedelta(days=1), {MON: first}) \
        == Verdict.HOTSPOT


def test_one_day_spike_asks_to_remeasure() -> None:
    calm = Reading(30.0, 30.5, Unit.C)
    assert verdict(Reading(30.0, 33.0, Unit.C), MON + timedelta(days=1), {MON: calm}) \
        == Verdict.REMEASURE
    # and the evening after a spike, back within the threshold: nothing to do
    spike = Reading(30.0, 33.0, Unit.C)
    assert verdict(calm, MON + timedelta(days=1), {MON: spike}) == Verdict.NORMAL


def test_a_missing_evening_between_two_breaks_the_run() -> None:
    hot = Reading(88.0, 93.0, Unit.F)
    assert verdict(hot, MON + timedelta(days=2), {MON: hot}) == Verdict.REMEASURE


def test_the_warmer_foot_must_be_the_same_site() -> None:
    assert verdict(Reading(33.0, 30.0, Unit.C), MON + timedelta(days=1),
                   {MON: Reading(30.0, 33.0, Unit.C)}) == Verdict.REMEASURE


def test_units_mixed_across_evenings_still_count() -> None:
    # 4.5 F yesterday, 2.5 C tonight: both over their own unit's threshold
    assert verdict(Reading(30.0, 32.5, Unit.C), MON + timedelta(days=1),
                   {MON: Reading(88.0, 92.5, Unit.F)}) == Verdict.HOTSPOT


def test_reading_round_trips_through_its_stored_form() -> None:
    for reading in (Reading(31.2, 33.8, Unit.C), Reading(88.0, 92.0, Unit.F)):
        assert Reading.decode(reading.encode()) == reading


def test_differences_over_time_oldest_first() -> None:
    history = {MON + timedelta(days=1): Reading(30.0, 32.5, Unit.C),
               MON: Reading(88.0, 89.0, Unit.F)}
    assert differences(history) == [(MON, 0.6, False), (MON + timedelta(days=1), 2.5, True)]
