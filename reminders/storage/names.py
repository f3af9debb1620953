"""The name index for People search: one set per pair of consent states (keys_counts.NAMES_PREFIX +
"<sms>/<email>": "active/none", "opted_out/active", ...: everyone is in exactly one) and one of
the people with an open flag ("flagged"). A member is "<normalised name>\\0<id as 4 bytes>"
(member()); the kept counts (tally `state:<sms>/<email>`) say which sets have people, and
keys_counts.NAMES_PREFIX + "~" (a hash) how many each holds.

A set is a directory (its own key: a sorted set of lower bounds, read by lexical range) and
leaves of at most 128 members ("<set>|<bound>"), so that every leaf stays listpack-encoded:
~20 bytes a person at a million instead of ~120 in one big sorted set (BENCHMARKS.md row 1).
Written only by the subscriber scripts (lua/names_functions.lua, with the record, in the same
script) and replaced by a recount (tally.rebuild, which also reports drift: diff()). A count or a
page is one script per set (lua/names_read.lua): O(log n + page) plus one count per skipped
leaf, never a scan.
"""

from __future__ import annotations

import heapq
import re
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field

from reminders.storage import codec, keys
from reminders.storage.client import Client, Pipeline
from reminders.storage.keys_counts import NAMES_PREFIX
from reminders.storage.lua import script

# The same fold and length as lua/names_functions.lua (NAME_FOLD, NAME_BYTES): Latin-1 letters
# U+00C0-U+00FF without their accent, by their place in each half ('_': kept as they are).
NAME_FOLD = "aaaaaa_ceeeeiiii_nooooo__uuuuy__"
NAME_BYTES = 32
LEAF = b"|"  # between a set's key and a leaf's bound
SIZES = "~"  # after the prefix: the hash of every set's size
LEAVES_PER_CALL = 500  # leaves read per round trip by members()


def key(name: str) -> bytes:
    """A name (or the start of one) as the index stores it: lower case, accents off, one
    space between words, no control characters, at most NAME_BYTES bytes."""
    folded = []
    for ch in name:
        code = ord(ch)
        if "A" <= ch <= "Z":
            ch = ch.lower()
        elif 0xC0 <= code <= 0xFF and NAME_FOLD[(code - 0xC0) % 32] != "_":
            ch = NAME_FOLD[(code - 0xC0) % 32]
        folded.append(ch)
    text = re.sub(rb"[\x00-\x08\x0e-\x1f]", b"", "".join(folded).encode("utf-8", "replace"))
    text = re.sub(rb"[ \t\n\v\f\r]+", b" ", text).removeprefix(b" ")[:NAME_BYTES]
    return text.removesuffix(b" ")


def member(name_key: bytes, subscriber_id: str) -> bytes:
    """The entry the scripts store: a numeric id (all of today's) as 4 bytes after \\0, any
    other (older ids: 12 hex digits) as text after \\1."""
    if re.fullmatch(r"[1-9]\d*", subscriber_id) and int(subscriber_id) < 2**32:
        return name_key + b"\0" + struct.pack(">I", int(subscriber_id))
    return name_key + b"\1" + subscriber_id.encode()


def subscriber_id(entry: bytes) -> str:
    if len(entry) >= 5 and entry[-5] == 0:  # names hold no \0 or \1 (key() drops them)
        return str(struct.unpack(">I", entry[-4:])[0])
    return codec.text(entry.rpartition(b"\1")[2])


def script_args() -> list[str]:
    """ARGV the subscriber scripts take for the index (the sets' prefix)."""
    return [NAMES_PREFIX]


def set_key(which: str) -> str:
    return NAMES_PREFIX + which


def existing(client: Client, prefix: str = NAMES_PREFIX) -> list[bytes]:
    """The index's keys, directories and leaves (a SCAN of its own prefix)."""
    return sorted(client.scan_iter(match=prefix + "*", count=1000))


def scratch_prefix() -> str:
    return keys.PREFIX + "names~recount:"


def swap_in(client: Client, pipe: Pipeline, scratch: str) -> None:
    """Queue (in the recount's transaction) the scratch sets in place of the live ones."""
    live = existing(client)
    built = existing(client, scratch)
    if live:
        pipe.unlink(*live)  # in the background: thousands of leaves at a million people
    for name in built:
        pipe.rename(name, NAMES_PREFIX.encode() + name.removeprefix(scratch.encode()))


def sizes_key(prefix: str = NAMES_PREFIX) -> str:
    """Every set's size (a hash: set -> people), kept by the same scripts."""
    return prefix + SIZES


def count(client: Client, sets: list[str], prefix: bytes) -> int:
    read = script(client, "names_read")
    with client.pipeline(transaction=False) as pipe:
        for name in sets:
            read(keys=[set_key(name), sizes_key()], args=["count", prefix, 0, 0, name],
                 client=pipe)
        return sum(int(n) for n in pipe.execute())


def page(client: Client, sets: list[str], prefix: bytes, offset: int, limit: int) -> list[str]:
    """Ids of the people `offset` to `offset + limit` by name among the union of `sets` whose
    normalised name starts with `prefix`. One set: the page itself; several: the first
    offset + limit of each, merged (their members are distinct: one sms state each)."""
    want = limit if len(sets) == 1 else offset + limit
    start = offset if len(sets) == 1 else 0
    read = script(client, "names_read")
    with client.pipeline(transaction=False) as pipe:
        for name in sets:
            read(keys=[set_key(name), sizes_key()], args=["page", prefix, start, want, name],
                 client=pipe)
        parts: list[list[bytes]] = pipe.execute()
    merged: Iterator[bytes] = heapq.merge(*parts)
    return [subscriber_id(m) for m in list(merged)[offset - start: offset - start + limit]]


def sets(client: Client, prefix: str = NAMES_PREFIX) -> list[str]:
    """The sets of the index (their directories), by name."""
    found = {codec.text(k.removeprefix(prefix.encode()).partition(LEAF)[0])
             for k in existing(client, prefix)}
    return sorted(found - {SIZES})


def members(client: Client, which: str, prefix: str = NAMES_PREFIX) -> Iterator[bytes]:
    """Every member of one set, in order (a recount's comparison, tests): the directory, then
    LEAVES_PER_CALL leaves a round trip."""
    directory = (prefix + which).encode()
    bounds: list[bytes] = client.zrange(directory, 0, -1)  # type: ignore[assignment]
    for first in range(0, len(bounds), LEAVES_PER_CALL):
        with client.pipeline(transaction=False) as pipe:
            for bound in bounds[first:first + LEAVES_PER_CALL]:
                pipe.zrange(directory + LEAF + bound, 0, -1)
            for leaf in pipe.execute():
                yield from leaf


@dataclass
class Diff:
    """How the live index differs from a rebuilt one, by person: `missing` (an entry they
    should have is not there), `extra` (an entry they should not have is), `misplaced` (both:
    in the wrong set, or under a stale name); `ids`: a few of them, for a look with `show`."""
    missing: int = 0
    extra: int = 0
    misplaced: int = 0
    ids: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, int | list[str]]:
        return {"missing": self.missing, "extra": self.extra, "misplaced": self.misplaced,
                "ids": self.ids}


def diff(client: Client, rebuilt: str) -> Diff:
    """Compare every set of the live index with the one rebuilt under `rebuilt` (both sorted:
    one merge pass each, the differences only kept)."""
    live: dict[str, set[bytes]] = {}
    wanted: dict[str, set[bytes]] = {}
    for which in sorted({*sets(client), *sets(client, rebuilt)}):
        for entry, in_live in _merge_diff(members(client, which),
                                          members(client, which, rebuilt)):
            (live if in_live else wanted).setdefault(subscriber_id(entry), set()).add(
                which.encode() + b"\0" + entry)
    found = Diff()
    for person in sorted({*live, *wanted}):
        if person not in live:
            found.missing += 1
        elif person not in wanted:
            found.extra += 1
        else:
            found.misplaced += 1
        if len(found.ids) < 20:
            found.ids.append(person)
    return found


def _merge_diff(ours: Iterator[bytes], theirs: Iterator[bytes]
                ) -> Iterator[tuple[bytes, bool]]:
    """(entry, whether it is ours) for the entries of two sorted streams that only one has."""
    a, b = next(ours, None), next(theirs, None)
    while a is not None or b is not None:
        if b is None or (a is not None and a < b):
            yield a, True  # type: ignore[misc]
            a = next(ours, None)
        elif a is None or b < a:
            yield b, False
            b = next(theirs, None)
        else:
            a, b = next(ours, None), next(theirs, None)
