"""The name index for People search: sorted sets of "<normalised name>\\0<id>" (score 0, read by
lexical range), one per pair of consent states (keys.NAMES_PREFIX + "<sms>/<email>": "active/
none", "opted_out/active", ...: everyone is in exactly one, ~100 B a person at a million) and
one of the people with an open flag ("flagged"). The kept counts (tally `state:<sms>/<email>`)
say which of these sets have people.

Written only by the subscriber scripts (lua/names_functions.lua, with the record, in the same
script) and replaced by a recount (tally.rebuild). A prefix search or a page is ZRANGE BYLEX
with LIMIT: O(log n + page), never a scan.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterator

from reminders.storage import codec, keys
from reminders.storage.client import Client, Pipeline

# The same fold and length as lua/names_functions.lua (NAME_FOLD, NAME_BYTES): Latin-1 letters
# U+00C0-U+00FF without their accent, by their place in each half ('_': kept as they are).
NAME_FOLD = "aaaaaa_ceeeeiiii_nooooo__uuuuy__"
NAME_BYTES = 32
SEPARATOR = b"\x00"


def key(name: str) -> bytes:
    """A name (or the start of one) as the index stores it: lower case, accents off, one
    space between words, at most NAME_BYTES bytes."""
    folded = []
    for ch in name:
        code = ord(ch)
        if "A" <= ch <= "Z":
            ch = ch.lower()
        elif 0xC0 <= code <= 0xFF and NAME_FOLD[(code - 0xC0) % 32] != "_":
            ch = NAME_FOLD[(code - 0xC0) % 32]
        folded.append(ch)
    text = re.sub(rb"[ \t\n\v\f\r]+", b" ", "".join(folded).encode("utf-8", "replace"))
    text = text.removeprefix(b" ")[:NAME_BYTES]
    return text.removesuffix(b" ")


def script_args() -> list[str]:
    """ARGV the subscriber scripts take for the index (the sets' prefix)."""
    return [keys.NAMES_PREFIX]


def set_key(which: str) -> str:
    return keys.NAMES_PREFIX + which


def existing(client: Client, prefix: str = keys.NAMES_PREFIX) -> list[str]:
    """The index's sets (a SCAN of its own prefix: a dozen keys)."""
    return sorted(codec.text(k) for k in client.scan_iter(match=prefix + "*", count=1000))


def scratch_prefix() -> str:
    return keys.PREFIX + "names~recount:"


def swap_in(client: Client, pipe: Pipeline, scratch: str) -> None:
    """Queue (in the recount's transaction) the scratch sets in place of the live ones."""
    live = existing(client)
    built = existing(client, scratch)
    if live:
        pipe.unlink(*live)  # in the background: a set of a million would hold Redis
    for name in built:
        pipe.rename(name, keys.NAMES_PREFIX + name.removeprefix(scratch))


def _bounds(prefix: bytes) -> tuple[bytes, bytes]:
    return (b"[" + prefix, b"[" + prefix + b"\xff") if prefix else (b"-", b"+")


def count(client: Client, sets: list[str], prefix: bytes) -> int:
    low, high = _bounds(prefix)
    with client.pipeline(transaction=False) as pipe:
        for name in sets:
            pipe.zlexcount(set_key(name), low, high)
        return sum(int(n) for n in pipe.execute())


def page(client: Client, sets: list[str], prefix: bytes, offset: int, limit: int) -> list[str]:
    """Ids of the people `offset` to `offset + limit` by name among the union of `sets` whose
    normalised name starts with `prefix`. One set: one ZRANGE with LIMIT; several: the first
    offset + limit of each, merged (their members are distinct: one sms state each)."""
    low, high = _bounds(prefix)
    want = limit if len(sets) == 1 else offset + limit
    start = offset if len(sets) == 1 else 0
    with client.pipeline(transaction=False) as pipe:
        for name in sets:
            pipe.zrange(set_key(name), low, high, bylex=True, offset=start, num=want)
        parts: list[list[bytes]] = pipe.execute()
    merged: Iterator[bytes] = heapq.merge(*parts)
    members = list(merged)[offset - start: offset - start + limit]
    return [codec.text(m.rpartition(SEPARATOR)[2]) for m in members]

