"""Foot skin temperatures texted with TEMP, and the hotspot rule.

Pure, no I/O. A person coached to use an infrared thermometer measures the same site on both
feet each evening and texts `TEMP 88 92` (left, right), `TEMP L 31.2 R 33.8`, `TEMP R 92 L 88`
or in Spanish `TEMP IZQ 31 DER 33` (decimal commas too: `31,2`). Lavery 2004 and the DIATEMP
trial acted on a left-right difference over 2.2 °C (4 °F) at the same site on two consecutive
days: that is the rule here.

- A difference over the threshold on one evening alone is a spike: measure again tomorrow.
- Over it on this evening and on the one just before, with the same foot warmer: a hotspot.
- A missing evening between two breaks the run (two readings days apart are not consecutive).
- The threshold is in the unit the person measured in: over 4 °F for Fahrenheit readings,
  over 2.2 °C for Celsius ones (4 °F is 2.22 °C: 2.2 °C exactly is not over, 4.0 °F is not).
- Values outside plausible foot skin temperatures (below 15 °C / 59 °F, above 37.5 °C /
  99.5 °F: a body temperature or a typo) are questioned, never stored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

THRESHOLD_C = 2.2
THRESHOLD_F = 4.0
# Plausible foot skin: cold feet in a cool room to a warm, inflamed foot.
LOW_C, HIGH_C = 15.0, 37.5
LOW_F, HIGH_F = 59.0, 99.5

# The keyword and the misspellings people type for it (the normalised, accent-folded text).
_KEYWORD = re.compile(r"^(?:temps?|temperature|temperatura|temperatures|tempature|temprature|"
                      r"tempreture|temperture|tmp|tem|termp|tepm|tenp)(?=[\s:\d]|$)\s*:?\s*")
_LEFT = frozenset({"l", "left", "lft", "izq", "izquierdo", "izquierda", "i",
                   "lt", "izda"})
_RIGHT = frozenset({"r", "right", "rt", "rgt", "der", "derecho", "derecha", "d", "dcha"})
_FAHRENHEIT = frozenset({"f", "fahrenheit", "farenheit", "faren"})
_CELSIUS = frozenset({"c", "celsius", "centigrade", "centigrados"})
_NOISE = frozenset({"degrees", "degree", "deg", "grados", "grado", "foot", "pie", "and", "y",
                    "is", "es", "=", "today", "hoy", "tonight", "thanks",
                    "thank", "you", "gracias", "please", "pls", "por", "favor"})
_TOKEN = re.compile(r"\d+(?:\.\d+)?|[a-z]+|=")


class Unit(StrEnum):
    C = "C"
    F = "F"


@dataclass(frozen=True)
class Reading:
    """One evening's measurement at one site: left and right foot, in the unit given."""

    left: float
    right: float
    unit: Unit

    @property
    def difference(self) -> float:
        """|left - right| in the reading's own unit, rounded as a thermometer shows it."""
        return round(abs(self.left - self.right), 1)

    @property
    def difference_c(self) -> float:
        return round(self.difference if self.unit == Unit.C else self.difference * 5 / 9, 1)

    @property
    def over(self) -> bool:
        return self.difference > (THRESHOLD_C if self.unit == Unit.C else THRESHOLD_F)

    @property
    def warmer(self) -> str:
        """"left", "right" or "" (equal)."""
        if self.left == self.right:
            return ""
        return "left" if self.left > self.right else "right"

    def encode(self) -> str:
        return f"{self.unit}:{self.left:g}:{self.right:g}"

    @classmethod
    def decode(cls, stored: str) -> Reading:
        unit, left, right = stored.split(":")
        return cls(float(left), float(right), Unit(unit))


class Problem(StrEnum):
    """Why a TEMP text gave no reading."""

    FORMAT = "format"  # not two numbers we can place on a left and a right foot
    IMPLAUSIBLE = "implausible"  # outside plausible foot skin temperatures, or mixed units


def is_temp(folded: str) -> bool:
    """Whether a normalised, accent-folded text starts with TEMP (or a misspelling of it)."""
    return bool(_KEYWORD.match(folded))


def parse(folded: str) -> Reading | Problem:
    """The reading in a TEMP text (normalised, accents folded), or why there is none."""
    match = _KEYWORD.match(folded)
    rest = folded[match.end():] if match else folded
    rest = re.sub(r"(\d),(\d)(?!\d)", r"\1.\2", rest)  # 31,2 -> 31.2 (a decimal comma)
    read = _read(_TOKEN.findall(rest.replace("/", " ")))
    if read is None:
        return Problem.FORMAT
    sides, order, unit = read
    if sides and order:
        return Problem.FORMAT  # "TEMP L 31 33": which foot is 33?
    if sides:
        if set(sides) != {"left", "right"}:
            return Problem.FORMAT
        return _plausible(sides["left"], sides["right"], unit)
    if len(order) != 2:
        return Problem.FORMAT
    return _plausible(order[0], order[1], unit)


def _read(tokens: list[str]) -> tuple[dict[str, float], list[float], str] | None:
    """The values by side ("L 31"), the values without one, in order, and the unit named;
    None for a word that is none of these, or a side given twice or without its value."""
    sides: dict[str, float] = {}
    order: list[float] = []
    side, unit = "", ""
    for token in tokens:
        if token[0].isdigit():
            if side in sides:
                return None
            if side:
                sides[side] = float(token)
            else:
                order.append(float(token))
            side = ""
        elif token in _LEFT or token in _RIGHT:
            if side:
                return None
            side = "left" if token in _LEFT else "right"
        elif token in _FAHRENHEIT or token in _CELSIUS:
            unit = "F" if token in _FAHRENHEIT else "C"
        elif token not in _NOISE:
            return None
    return None if side else (sides, order, unit)


def _plausible(left: float, right: float, unit: str) -> Reading | Problem:
    """The unit as stated, else the one both values fit (the ranges do not overlap)."""
    for candidate, (low, high) in ((Unit.C, (LOW_C, HIGH_C)), (Unit.F, (LOW_F, HIGH_F))):
        if unit and unit != candidate:
            continue
        if low <= left <= high and low <= right <= high:
            return Reading(left, right, candidate)
    return Problem.IMPLAUSIBLE


class Verdict(StrEnum):
    NORMAL = "normal"  # within the threshold tonight
    REMEASURE = "remeasure"  # over tonight only: measure again tomorrow evening
    HOTSPOT = "hotspot"  # over tonight and the evening just before, the same foot warmer


def verdict(tonight: Reading, evening: date, history: dict[date, Reading]) -> Verdict:
    """What tonight's reading means given the earlier evenings' (`history`, by local evening;
    tonight's own entry, if any, is ignored)."""
    if not tonight.over:
        return Verdict.NORMAL
    before = history.get(evening - timedelta(days=1))
    if before is not None and before.over and before.warmer == tonight.warmer:
        return Verdict.HOTSPOT
    return Verdict.REMEASURE


def differences(history: dict[date, Reading]) -> list[tuple[date, float, bool]]:
    """(evening, left-right difference in °C, over the threshold), oldest first: the console's
    and the weekly summary's view over time."""
    return [(day, reading.difference_c, reading.over) for day, reading in sorted(history.items())]
