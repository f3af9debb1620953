"""The content library (routines, tips, safety notes) and which of them a person gets tonight.

Selection is a pure function of (subscriber id, preferences, date): the same evening always
previews and sends the same items, and each person walks their own shuffled cycle through the
routines they may do, so no routine comes back within len(cycle) >= 14 nights.
"""

from __future__ import annotations

import hashlib
import math
import tomllib
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

KINDS = {"routine": "routine", "tip": "tip", "safety": "safety"}


@dataclass(frozen=True)
class Item:
    id: str
    kind: str  # routine | tip | safety
    tags: tuple[str, ...]
    text: str  # full SMS wording
    short: str  # shorter SMS wording of the same advice
    why: str  # the longer explanation, for the email

    def has(self, tag: str) -> bool:
        return tag in self.tags


@dataclass(frozen=True, eq=False)  # identity hash: cheap as a cache key
class Library:
    routines: tuple[Item, ...]
    tips: tuple[Item, ...]
    safety: tuple[Item, ...]

    def by_id(self, item_id: str) -> Item:
        for item in (*self.routines, *self.tips, *self.safety):
            if item.id == item_id:
                return item
        raise KeyError(item_id)


@dataclass(frozen=True)
class Selection:
    routine: Item
    tip: Item
    safety: Item

    @property
    def items(self) -> tuple[Item, Item, Item]:
        return (self.routine, self.tip, self.safety)


class LibraryError(ValueError):
    """The content file is malformed; raised at start, not mid-send."""


@lru_cache(maxsize=4)
def load_library(path: Path) -> Library:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise LibraryError(f"cannot read content library {path}: {exc}") from None
    sections = {}
    for section, kind in KINDS.items():
        items = []
        for entry in data.get(section, []):
            try:
                items.append(Item(entry["id"], kind, tuple(entry["tags"]), entry["text"],
                                  entry["short"], entry["why"]))
            except KeyError as exc:
                raise LibraryError(f"{path}: a {section} lacks {exc}") from None
        sections[section] = tuple(sorted(items, key=lambda i: i.id))
    return Library(sections["routine"], sections["tip"], sections["safety"])


def _allowed(item: Item, heat_ok: bool, massage_ok: bool) -> bool:
    return (heat_ok or not item.has("heat")) and (massage_ok or not item.has("massage"))


def _cycle_pick(pool: tuple[Item, ...], seed: str, day: date) -> Item:
    """Item for `day` in this person's own cycle through `pool`.

    index = (a * day + b) mod n with a coprime to n is a permutation of any n consecutive days,
    so nothing repeats within n nights; a and b come from the person's id, so people differ.
    O(1) and no per-person cache: a worker's memory does not grow with the people it serves.
    """
    n = len(pool)
    h = int.from_bytes(hashlib.blake2b(seed.encode(), digest_size=8).digest(), "big")
    steps = _coprimes(n)
    a, b = steps[h % len(steps)], (h >> 32) % n
    return pool[(a * day.toordinal() + b) % n]


@lru_cache(maxsize=64)
def _coprimes(n: int) -> tuple[int, ...]:
    return tuple(a for a in range(1, n) if math.gcd(a, n) == 1) or (1,)


def select(
    library: Library, subscriber_id: str, day: date, heat_ok: bool, massage_ok: bool
) -> Selection:
    routines, tips = _pools(library, heat_ok, massage_ok)
    routine = _cycle_pick(routines, f"{subscriber_id}:routine", day)
    tip = _cycle_pick(tips, f"{subscriber_id}:tip", day)
    safety = _cycle_pick(_safety_pool(library, routine, heat_ok, massage_ok),
                         f"{subscriber_id}:safety", day)
    return Selection(routine, tip, safety)


@lru_cache(maxsize=16)
def _pools(library: Library, heat_ok: bool, massage_ok: bool
           ) -> tuple[tuple[Item, ...], tuple[Item, ...]]:
    """The routines and tips this combination of contraindications allows (4 combinations)."""
    return (tuple(i for i in library.routines if _allowed(i, heat_ok, massage_ok)),
            tuple(i for i in library.tips if _allowed(i, heat_ok, massage_ok)))


def _safety_pool(
    library: Library, routine: Item, heat_ok: bool, massage_ok: bool
) -> tuple[Item, ...]:
    allowed = tuple(i for i in library.safety if _allowed(i, heat_ok, massage_ok))
    if not massage_ok:
        # Massage is not advised for them: the note is to have the area looked at.
        checkups = tuple(i for i in allowed if i.has("checkup"))
        return checkups or allowed
    # A note that fits tonight's routine beats a random one (heat -> test the water first...).
    for tag, note_tag in (("heat", "water"), ("oil", "oil"), ("lotion", "lotion")):
        if routine.has(tag):
            fitting = tuple(i for i in allowed if i.has(note_tag))
            if fitting:
                return fitting
    return allowed
