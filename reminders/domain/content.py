"""The content library (foot checks, routines, tips, safety notes) and tonight's choice of them.

Selection is a pure function of (subscriber id, what they may do, date): the same evening always
previews and sends the same items, and each person walks their own shuffled cycle through the
items they may have, so no routine comes back within len(cycle) >= 14 nights.

Rules the selection keeps (README, "What the nightly text says"):
- every night opens with a foot check;
- `massage` items only when massage is allowed, `heat` items only when heat is allowed;
- content fits the person: `cancer` items (a 24-hour line, a dose that may change) only for
  cause=cancer_treatment; calf massage (`calf`) only when the cause is known and is not cancer
  treatment (clot risk), so an unknown cause gets only what is safe for everyone;
- while a foot problem the person reported is open (a flag; it stays open until a person
  closes it, whatever its age): no massage, heat, walking, standing or heel/toe-rise items, only
  seated or feet-up ones, and the safety note is about the problem (`open-flag` notes, which no
  other evening gets);
- an item marked `sms = false` (its plain wording, with every instruction, is too long for the
  nightly text) goes only to people who read the email alone;
- no two items of one night share a movement (`move:...` tag);
- when the caller passes `fits`, tonight's items are ones whose SMS wording fits the budget
  together (the next tip, note or routine of the person's cycle gives way otherwise).
"""

from __future__ import annotations

import hashlib
import math
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

# TOML section -> the item kind shown by `preview --json`.
KINDS = {"check": "check", "routine": "routine", "tip": "tip", "safety": "safety"}
MOVE_PREFIX = "move:"
# While a foot problem is open: weight off the foot, nothing that rubs or warms it.
NOT_WHILE_FLAG_OPEN = frozenset({"massage", "heat", "walk", "standing", "move:heel-lift"})
RESTFUL = frozenset({"seated", "elevation"})  # done sitting or lying, or with the feet up


@dataclass(frozen=True)
class Item:
    id: str
    kind: str  # check | routine | tip | safety
    tags: tuple[str, ...]
    text: str  # full SMS wording
    short: str  # shorter SMS wording of the same advice, with every safety word kept
    why: str  # the longer explanation, for the email
    must: tuple[str, ...] = ()  # instructions text and short both state (tests check them)
    sms: bool = True  # False: too long for the nightly text with every instruction: email only

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
    cause: str | None = None  # subscriber.CAUSES, or None when not known
    sms: bool = False  # the person gets the nightly text (items marked sms = false stay out)
    flag_open: bool = False

    def permits(self, item: Item) -> bool:
        if (item.has("heat") and not self.heat) or (item.has("massage") and not self.massage):
            return False
        if item.has("cancer") and self.cause != "cancer_treatment":
            return False
        if item.has("calf") and self.cause not in ("diabetes", "other"):
            return False
        if self.sms and not item.sms:
            return False
        if item.has("open-flag"):
            return self.flag_open
        if self.flag_open and item.kind in ("routine", "tip"):
            return bool(RESTFUL & set(item.tags)) and not NOT_WHILE_FLAG_OPEN & set(item.tags)
        return True


# Item ids of a nightly text: check, routine, tip ("" when the tip stays out), safety.
Fits = Callable[[tuple[str, str, str, str]], bool]


@dataclass(frozen=True)
class Selection:
    check: Item
    routine: Item
    tip: Item
    safety: Item
    # False: tonight's text has no room for the tip with every instruction of the other three
    # (it stays in the email); the check, the routine and the safety note always go.
    tip_in_sms: bool = True
    # The text carries the foot check alone (a lighter-schedule evening without the routine,
    # domain/frequency.py), or the foot check and the habit offer (`offer`); the email keeps
    # all four items.
    check_only: bool = False
    offer: bool = False

    @property
    def items(self) -> tuple[Item, Item, Item, Item]:
        return (self.check, self.routine, self.tip, self.safety)

    @property
    def sms_items(self) -> tuple[Item, ...]:
        if self.check_only or self.offer:
            return (self.check,)
        return self.items if self.tip_in_sms else (self.check, self.routine, self.safety)


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
                                  entry["short"], entry["why"], tuple(entry.get("must", ())),
                                  bool(entry.get("sms", True))))
            except KeyError as exc:
                raise LibraryError(f"{path}: a {section} lacks {exc}") from None
        if not items:
            raise LibraryError(f"{path}: no [[{section}]] items")
        sections[section] = tuple(sorted(items, key=lambda i: i.id))
    return Library(sections["check"], sections["routine"], sections["tip"], sections["safety"])


def _cycle(pool: tuple[Item, ...], seed: str, day: date,
           avoid: frozenset[str] = frozenset()) -> list[Item]:
    """`pool` in the order of this person's own cycle for `day`: the first is tonight's item.

    index = (a * day + b) mod n with a coprime to n is a permutation of any n consecutive days,
    so nothing repeats within n nights; a and b come from the person's id, so people differ.
    An item that repeats a movement already in tonight's text (`avoid`) gives way to the next
    one in the pool (it goes last). O(n) and no per-person cache: a worker's memory does not
    grow with the people it serves.
    """
    n = len(pool)
    h = int.from_bytes(hashlib.blake2b(seed.encode(), digest_size=8).digest(), "big")
    steps = _coprimes(n)
    a, b = steps[h % len(steps)], (h >> 32) % n
    start = (a * day.toordinal() + b) % n
    return _avoiding([pool[(start + offset) % n] for offset in range(n)], avoid)


def _avoiding(ordered: list[Item], avoid: frozenset[str]) -> list[Item]:
    """The items that repeat no movement in `avoid`; all of them if every one does."""
    return [item for item in ordered if not item.movements & avoid] or ordered


def _cycle_pick(pool: tuple[Item, ...], seed: str, day: date,
                avoid: frozenset[str] = frozenset()) -> Item:
    return _cycle(pool, seed, day, avoid)[0]


@lru_cache(maxsize=64)
def _coprimes(n: int) -> tuple[int, ...]:
    return tuple(a for a in range(1, n) if math.gcd(a, n) == 1) or (1,)


def select(library: Library, subscriber_id: str, day: date, allowed: Allowed,
           flag_open: bool = False, fits: Fits | None = None) -> Selection:
    """Tonight's four items (the rules in the module docstring). `flag_open` is the same as
    `allowed.flag_open`, kept for callers that pass it apart."""
    if flag_open and not allowed.flag_open:
        allowed = Allowed(allowed.heat, allowed.massage, allowed.cause, allowed.sms, True)
    checks, routines, tips, safety = _pools(library, allowed)
    check = _cycle_pick(checks, f"{subscriber_id}:check", day)
    tip_order = _cycle(tips, f"{subscriber_id}:tip", day)
    first: Selection | None = None
    for routine in _cycle(routines, f"{subscriber_id}:routine", day):
        notes = _cycle(_safety_pool(safety, routine, allowed.flag_open),
                       f"{subscriber_id}:safety", day)
        tips_for = {note.id: _avoiding(tip_order, routine.movements) for note in notes}
        tonight = [Selection(check, routine, tip, note) for note in notes
                   for tip in _avoiding(tips_for[note.id], note.movements)]
        first = first or tonight[0]
        if fits is None:
            return tonight[0]
        # Tonight's note comes first (variety), then a tip that fits beside it; when none
        # does, the note stays and the tip goes by email only.
        for note in notes:
            ids = (check.id, routine.id)
            for chosen in (c for c in tonight if c.safety is note):
                if fits((*ids, chosen.tip.id, note.id)):
                    return chosen
            if fits((*ids, "", note.id)):
                tip = next(c.tip for c in tonight if c.safety is note)
                return Selection(check, routine, tip, note, tip_in_sms=False)
    assert first is not None  # pools are never empty (load_library, tests/domain/test_content.py)
    return first  # nothing fits: the renderer says so loudly (BudgetError), never cuts


@lru_cache(maxsize=64)
def _pools(library: Library, allowed: Allowed) -> tuple[tuple[Item, ...], ...]:
    """The items this combination of preferences allows (a few dozen combinations, cached)."""
    return tuple(tuple(i for i in pool if allowed.permits(i))
                 for pool in (library.checks, library.routines, library.tips, library.safety))


def _safety_pool(allowed: tuple[Item, ...], routine: Item, flag_open: bool) -> tuple[Item, ...]:
    if flag_open:
        # The note is about the reported problem (`open-flag` notes go to no other evening).
        return tuple(i for i in allowed if i.has("open-flag")) or allowed
    # A note that fits tonight's routine beats a random one (heat -> test the water first...).
    for tag, note_tag in (("heat", "water"), ("oil", "oil"), ("lotion", "lotion")):
        if routine.has(tag):
            fitting = tuple(i for i in allowed if i.has(note_tag))
            if fitting:
                return fitting
    return allowed
