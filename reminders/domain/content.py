"""The content library (foot checks, routines, tips, safety notes) and tonight's choice of them.

Selection is a pure function of (subscriber id, what they may do, date): the same evening always
previews and sends the same items, and each person walks their own shuffled cycle through the
items they may have, so no routine comes back within len(cycle) >= 14 nights.

Rules the selection keeps (README, "What the nightly text says"):
- every night opens with a foot check;
- `massage` items only when massage is allowed, `heat` items only when heat is allowed, and
  neither while a foot problem the person reported is open (a red flag);
- no two items of one night share a movement (`move:...` tag).
"""

from __future__ import annotations

import hashlib
import math
import tomllib
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

# TOML section -> the item kind shown by `preview --json`.
KINDS = {"check": "check", "routine": "routine", "tip": "tip", "safety": "safety"}
MOVE_PREFIX = "move:"


@dataclass(frozen=True)
class Item:
    id: str
    kind: str  # check | routine | tip | safety
    tags: tuple[str, ...]
    text: str  # full SMS wording
    short: str  # shorter SMS wording of the same advice, with every safety word kept
    why: str  # the longer explanation, for the email

    def has(self, tag: str) -> bool:
        return tag in self.tags

    @property
    def movements(self) -> frozenset[str]:
        return frozenset(t for t in self.tags if t.startswith(MOVE_PREFIX))


@dataclass(frozen=True, eq=False)  # identity hash: cheap as a cache key
class Library:
    checks: tuple[Item, ...]
    routines: tuple[Item, ...]
    tips: tuple[Item, ...]
    safety: tuple[Item, ...]


@dataclass(frozen=True)
class Allowed:
    """What tonight's items may ask of the person."""

    heat: bool
    massage: bool

    def permits(self, item: Item) -> bool:
        return (self.heat or not item.has("heat")) and (self.massage or not item.has("massage"))


@dataclass(frozen=True)
class Selection:
    check: Item
    routine: Item
    tip: Item
    safety: Item

    @property
    def items(self) -> tuple[Item, Item, Item, Item]:
        return (self.check, self.routine, self.tip, self.safety)


class LibraryError(ValueError):
    """The content file is malformed; raised at start, not mid-send."""


@lru_cache(maxsize=4)
def load_library(path: Path) -> Library:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise LibraryError(f"cannot read content library {path}: {exc}") from None
    sections: dict[str, tuple[Item, ...]] = {}
    for section, kind in KINDS.items():
        items = []
        for entry in data.get(section, []):
            try:
                items.append(Item(entry["id"], kind, tuple(entry["tags"]), entry["text"],
                                  entry["short"], entry["why"]))
            except KeyError as exc:
                raise LibraryError(f"{path}: a {section} lacks {exc}") from None
        if not items:
            raise LibraryError(f"{path}: no [[{section}]] items")
        sections[section] = tuple(sorted(items, key=lambda i: i.id))
    return Library(sections["check"], sections["routine"], sections["tip"], sections["safety"])


def _cycle_pick(pool: tuple[Item, ...], seed: str, day: date,
                avoid: frozenset[str] = frozenset()) -> Item:
    """Item for `day` in this person's own cycle through `pool`.

    index = (a * day + b) mod n with a coprime to n is a permutation of any n consecutive days,
    so nothing repeats within n nights; a and b come from the person's id, so people differ.
    An item that repeats a movement already in tonight's text (`avoid`) gives way to the next
    one in the pool. O(1) and no per-person cache: a worker's memory does not grow with the
    people it serves.
    """
    n = len(pool)
    h = int.from_bytes(hashlib.blake2b(seed.encode(), digest_size=8).digest(), "big")
    steps = _coprimes(n)
    a, b = steps[h % len(steps)], (h >> 32) % n
    start = (a * day.toordinal() + b) % n
    for offset in range(n):
        item = pool[(start + offset) % n]
        if not item.movements & avoid:
            return item
    return pool[start]


@lru_cache(maxsize=64)
def _coprimes(n: int) -> tuple[int, ...]:
    return tuple(a for a in range(1, n) if math.gcd(a, n) == 1) or (1,)


def select(library: Library, subscriber_id: str, day: date, allowed: Allowed,
           flag_open: bool = False) -> Selection:
    """Tonight's four items. With an open red flag nothing asks for massage or heat, and the
    safety note is one about getting a foot problem seen."""
    if flag_open:
        allowed = Allowed(heat=False, massage=False)
    checks, routines, tips, safety = _pools(library, allowed)
    check = _cycle_pick(checks, f"{subscriber_id}:check", day)
    routine = _cycle_pick(routines, f"{subscriber_id}:routine", day)
    tip = _cycle_pick(tips, f"{subscriber_id}:tip", day, routine.movements)
    note_pool = _safety_pool(safety, routine, flag_open)
    note = _cycle_pick(note_pool, f"{subscriber_id}:safety", day,
                       routine.movements | tip.movements)
    return Selection(check, routine, tip, note)


@lru_cache(maxsize=16)
def _pools(library: Library, allowed: Allowed) -> tuple[tuple[Item, ...], ...]:
    """The items this combination of contraindications allows (4 combinations, cached)."""
    return tuple(tuple(i for i in pool if allowed.permits(i))
                 for pool in (library.checks, library.routines, library.tips, library.safety))


def _safety_pool(allowed: tuple[Item, ...], routine: Item, flag_open: bool) -> tuple[Item, ...]:
    if flag_open:
        # A foot problem is open: remind them to have it seen.
        checkups = tuple(i for i in allowed if i.has("checkup"))
        if checkups:
            return checkups
    # A note that fits tonight's routine beats a random one (heat -> test the water first...).
    for tag, note_tag in (("heat", "water"), ("oil", "oil"), ("lotion", "lotion")):
        if routine.has(tag):
            fitting = tuple(i for i in allowed if i.has(note_tag))
            if fitting:
                return fitting
    return allowed
