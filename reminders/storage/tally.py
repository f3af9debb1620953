"""Counts kept, not counted: people by "<dimension>:<value>" (keys_counts.TALLY: sms:active,
email:none, channel:sms,email, language:es, cause:diabetes, zone:America/Chicago, flag:open; and
`total`; `state` = "<sms>/<email>", `cohort` = "<week started>/<on|pending|off>/<language>/
<cause>" for retention) and who is paused until when (keys_counts.TALLY_PAUSED).

The scripts that write a subscriber hash (lua/subscriber_replace.lua, subscriber_opt_out.lua,
subscriber_delete.lua) take the old record out of the counts and put the new one in, in the same
script (lua/tally_functions.lua), so `stats`, the console and /metrics read one hash instead of
every record, and the counts cannot drift on a crash or a lost race. A new dimension of the
record is one line in TALLY_DIMENSIONS there; a count of another structure (review items by
level, say) is add_in() in that structure's own transaction.

rebuild() is `reminders stats --recount`: every record counted again (a SCAN, a page per script
call) into scratch keys, compared with the kept counts and the name index (the drift), the
difference added to the kept counts, the paused set and the name index (names.py) replaced.
Changes made while it runs can show as drift that is not there: run it when the service is
quiet (or twice).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from reminders.domain import keywords
from reminders.storage import codec, keys, names
from reminders.storage.client import Client, Pipeline
from reminders.storage.keys_counts import TALLY, TALLY_PAUSED, TALLY_STOP_WORDS
from reminders.storage.lua import script

# The words an opt-out is counted under (domain/keywords: STOP, STOPALL, UNSUBSCRIBE, CANCEL,
# END, QUIT, OPTOUT, REVOKE; ALTO, PARAR, CANCELAR, BAJA, ...).
STOP_GROUPS = keywords.STOP_WORDS | keywords.SPANISH_STOP_WORDS
# Dimensions /metrics leaves out: one label value per program week, language and cause is too
# many time series for Prometheus (`reminders analytics` reads them).
NOT_EXPORTED = ("cohort",)
SCRATCH = ":recount"  # suffix of the scratch keys a rebuild counts into
PAGE = 500  # records per recount script call (Redis is held ~1 ms at a time)
# Fields of the hash that are not "<dimension>:<value>" counts.
TOTAL, RECOUNTED, UNREADABLE, UNREADABLE_IDS = "total", "recounted", "unreadable", "unreadable_ids"


def script_keys() -> list[str]:
    """KEYS the subscriber scripts take for the counts (after their own)."""
    return [TALLY, TALLY_PAUSED]


def script_args() -> list[str]:
    """ARGV the subscriber scripts take for the name index they keep too (names.py)."""
    return names.script_args()


@dataclass(frozen=True)
class Tally:
    counts: dict[str, dict[str, int]]  # dimension -> value -> people (values at 0 left out)
    total: int
    recounted: float  # epoch seconds of the last rebuild; 0: never
    unreadable: int  # records the last rebuild could not decode
    unreadable_ids: list[str]

    def of(self, dimension: str) -> dict[str, int]:
        return self.counts.get(dimension, {})


def read(client: Client) -> Tally:
    """The kept counts: one HGETALL of a hash of a few hundred fields at most."""
    raw = codec.text_hash(client.hgetall(TALLY))
    counts: dict[str, dict[str, int]] = {}
    for field, value in raw.items():
        dimension, colon, name = field.partition(":")
        if colon and int(value):
            counts.setdefault(dimension, {})[name] = int(value)
    return Tally(counts, int(raw.get(TOTAL, 0)), float(raw.get(RECOUNTED, 0)),
                 int(raw.get(UNREADABLE, 0)), raw.get(UNREADABLE_IDS, "").split())


def add_in(pipe: Pipeline | Client, dimension: str, value: str, delta: int) -> None:
    """Count something else in the same hash, in the caller's transaction (e.g. review items:
    add_in(pipe, "review", level, 1) where an item is opened, -1 where it is closed)."""
    pipe.hincrby(TALLY, f"{dimension}:{value}", delta)


def stop_word(words: str) -> str:
    """The group an opt-out text is counted under: the first stop keyword in it, English or
    Spanish ("STOP please" -> stop, "Alto." -> alto), else "phrase" (a plain request to stop:
    "no more texts"); "" for no words (an opt-out not by text)."""
    tokens = re.findall(r"[a-z]+", words.lower())
    if not tokens:
        return ""
    return next((t for t in tokens if t in STOP_GROUPS), "phrase")


def stop_words(client: Client) -> dict[str, int]:
    """Opt-outs by text so far, by stop_word() group (one HGETALL)."""
    raw = codec.text_hash(client.hgetall(TALLY_STOP_WORDS))
    return {word: int(n) for word, n in sorted(raw.items())}


def paused_on(client: Client, day: date) -> int:
    """People whose pause runs through `day` or later (one ZCOUNT)."""
    return int(client.zcount(TALLY_PAUSED, int(day.strftime("%Y%m%d")), "+inf"))


@dataclass(frozen=True)
class Drift:
    """Kept counts that differ from a recount: field -> (kept, counted). The name index's
    drift is there too, by person (names.Diff): `names:missing` (0, n), `names:extra` (n, 0),
    `names:misplaced` (n, n); `names_ids`: a few of those people."""
    fields: dict[str, tuple[int, int]]
    records: int
    names_ids: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "records": self.records,
            "drift": {f: {"kept": k, "counted": c} for f, (k, c) in self.fields.items()}}
        if self.names_ids:  # only with a name-index drift: the shape is otherwise as it was
            found["names_ids"] = list(self.names_ids)
        return found


def _names_fields(diff: names.Diff) -> dict[str, tuple[int, int]]:
    found = {"names:missing": (0, diff.missing), "names:extra": (diff.extra, 0),
             "names:misplaced": (diff.misplaced, diff.misplaced)}
    return {f: pair for f, pair in found.items() if any(pair)}


def rebuild(client: Client, subscriber_ids: Iterable[list[str]], unreadable: list[str],
            now: float) -> Drift:
    """Count every record again (`subscriber_ids`: the ids, a page at a time), report the
    drift and correct it; `unreadable`: ids of records that do not decode (kept for stats)."""
    tally_tmp, paused_tmp = TALLY + SCRATCH, TALLY_PAUSED + SCRATCH
    names_tmp = names.scratch_prefix()
    client.delete(tally_tmp, paused_tmp, *names.existing(client, names_tmp))
    count = script(client, "subscriber_recount")
    records = 0
    for ids in subscriber_ids:
        for start in range(0, len(ids), PAGE):
            page = ids[start:start + PAGE]
            records += int(count(keys=[tally_tmp, paused_tmp, *map(keys.subscriber, page)],
                                 args=[names_tmp, *page]))
    found = {k: int(v) for k, v in codec.text_hash(client.hgetall(tally_tmp)).items()}
    kept = {k: int(v) for k, v in codec.text_hash(client.hgetall(TALLY)).items()
            if k == TOTAL or ":" in k}
    drift = {f: (kept.get(f, 0), found.get(f, 0)) for f in sorted({*found, *kept})
             if kept.get(f, 0) != found.get(f, 0)}
    wrong_names = names.diff(client, names_tmp)  # the rebuilt index replaces it below
    with client.pipeline(transaction=True) as pipe:
        for field, (had, counted) in drift.items():
            pipe.hincrby(TALLY, field, counted - had)  # a delta: later writes still count
        pipe.hset(TALLY, mapping={RECOUNTED: now, UNREADABLE: len(unreadable),
                                       UNREADABLE_IDS: " ".join(unreadable[:20])})
        pipe.unlink(TALLY_PAUSED)
        pipe.delete(tally_tmp)
        if client.exists(paused_tmp):
            pipe.rename(paused_tmp, TALLY_PAUSED)
        names.swap_in(client, pipe, names_tmp)
        pipe.execute()
    return Drift({**drift, **_names_fields(wrong_names)}, records, tuple(wrong_names.ids))
