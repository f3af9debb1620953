"""Send windows: the local times a person's evening text may be set to (SEND_WINDOW), narrowed
for numbers whose area code belongs to a state with a stricter act (STATE_WINDOWS).

Why: the federal telephone-solicitation rule (47 CFR 64.1200(c)(1)) bars calls before 8:00 and
after 21:00 at the called party's location; Florida's Telephone Solicitation Act (Fla. Stat.
501.059(8)(a)) and Oklahoma's (15 O.S. 775C.4) end at 20:00 and presume the location from the
area code. Whether they reach informational texts at a time the person chose is a question for
counsel; the defaults keep every chosen time inside all three.

A window's end is the last minute a person can choose (inclusive): a text set for 21:00 goes out
at 21:00. Pacing or a retry can move it later (LATE_LIMIT_MINUTES); a program that must never
send past the hour sets the end earlier.

The area codes of a state come from the phonenumbers library's geocoder data (the description
of the 4-digit prefix "1" + area code: "Florida", "San Antonio, TX"); upgrading that pinned
library is how new area codes arrive. Pure: no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time
from functools import lru_cache

import phonenumbers
from phonenumbers.geodata import GEOCODE_DATA

# The acts' own hours (Florida, Oklahoma): intersected with SEND_WINDOW.
DEFAULT_STATE_WINDOWS = "FL=08:00-20:00,OK=08:00-20:00"
DEFAULT_SEND_WINDOW = "16:00-21:00"

US_STATES = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California",
    "CO": "Colorado", "CT": "Connecticut", "DE": "Delaware", "DC": "Washington D.C.",
    "FL": "Florida", "GA": "Georgia", "HI": "Hawaii", "ID": "Idaho", "IL": "Illinois",
    "IN": "Indiana", "IA": "Iowa", "KS": "Kansas", "KY": "Kentucky", "LA": "Louisiana",
    "ME": "Maine", "MD": "Maryland", "MA": "Massachusetts", "MI": "Michigan",
    "MN": "Minnesota", "MS": "Mississippi", "MO": "Missouri", "MT": "Montana",
    "NE": "Nebraska", "NV": "Nevada", "NH": "New Hampshire", "NJ": "New Jersey",
    "NM": "New Mexico", "NY": "New York", "NC": "North Carolina", "ND": "North Dakota",
    "OH": "Ohio", "OK": "Oklahoma", "OR": "Oregon", "PA": "Pennsylvania",
    "RI": "Rhode Island", "SC": "South Carolina", "SD": "South Dakota", "TN": "Tennessee",
    "TX": "Texas", "UT": "Utah", "VT": "Vermont", "VA": "Virginia",
    "WA": "Washington State", "WV": "West Virginia", "WI": "Wisconsin", "WY": "Wyoming",
    "PR": "Puerto Rico",
}
_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


@dataclass(frozen=True)
class Window:
    start: time
    end: time  # inclusive: the last minute a person can choose

    def __contains__(self, value: object) -> bool:
        return isinstance(value, time) and self.start <= value <= self.end

    def narrowed(self, other: Window) -> Window:
        """The times inside both (an empty overlap keeps this window's start as a point)."""
        start, end = max(self.start, other.start), min(self.end, other.end)
        return Window(start, end) if start <= end else Window(start, start)

    def nearest(self, value: time) -> time:
        """The allowed time closest to `value`: the start for one before, the end for one
        after (what `reminders window-apply` moves a person to)."""
        return self.start if value < self.start else min(value, self.end)

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


@dataclass(frozen=True)
class Windows:
    """SEND_WINDOW and the narrower windows by state (STATE_WINDOWS)."""

    general: Window
    states: tuple[tuple[str, Window], ...] = ()

    def for_phone(self, phone: str | None) -> Window:
        state = state_of(phone) if phone else None
        for code, window in self.states:
            if code == state:
                return self.general.narrowed(window)
        return self.general

    def describe(self) -> str:
        extra = ", ".join(f"{code} {self.general.narrowed(w)}" for code, w in self.states)
        return f"{self.general}" + (f" ({extra})" if extra else "")


def parse_window(raw: str) -> Window:
    """ "16:00-21:00" -> Window; ValueError with a line fit for a ConfigError."""
    match = _RANGE.match(raw or "")
    if not match:
        raise ValueError(f"expected HH:MM-HH:MM, got {raw!r}")
    h1, m1, h2, m2 = (int(part) for part in match.groups())
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
        raise ValueError(f"not a time range: {raw!r}")
    start, end = time(h1, m1), time(h2, m2)
    if start >= end:
        raise ValueError(f"the window must start before it ends (same day), got {raw!r}")
    return Window(start, end)


def parse_state_windows(raw: str) -> tuple[tuple[str, Window], ...]:
    """ "FL=08:00-20:00,OK=08:00-20:00" (or "none") -> ((state, window), ...)."""
    if raw.strip().lower() == "none":
        return ()
    found: list[tuple[str, Window]] = []
    for part in raw.split(","):
        code, sep, window = part.partition("=")
        code = code.strip().upper()
        if not sep or code not in US_STATES:
            raise ValueError(f"expected STATE=HH:MM-HH:MM with a US state code, got {part!r}")
        found.append((code, parse_window(window)))
    return tuple(found)


def area_codes(state: str) -> frozenset[str]:
    """The area codes the geocoder places in `state` (two-letter code)."""
    return _by_state().get(state, frozenset())


def state_of(phone: str) -> str | None:
    """The state an E.164 North American number's area code belongs to, else None."""
    try:
        parsed = phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException:
        return None
    if parsed.country_code != 1:
        return None
    return _state_by_code().get(str(parsed.national_number)[:3])


@lru_cache(maxsize=1)
def _state_by_code() -> dict[str, str]:
    return {code: state for state, codes in _by_state().items() for code in codes}


@lru_cache(maxsize=1)
def _by_state() -> dict[str, frozenset[str]]:
    by_name = {name: code for code, name in US_STATES.items()}
    found: dict[str, set[str]] = {}
    for prefix, names in GEOCODE_DATA.items():
        if len(prefix) != 4 or not prefix.startswith("1") or "en" not in names:
            continue
        text = names["en"]
        code = by_name.get(text) or (text[-2:] if text[-4:-2] == ", " else None)
        if code in US_STATES:
            found.setdefault(code, set()).add(prefix[1:])
    return {code: frozenset(codes) for code, codes in found.items()}


DEFAULT_WINDOWS = Windows(parse_window(DEFAULT_SEND_WINDOW),
                          parse_state_windows(DEFAULT_STATE_WINDOWS))
