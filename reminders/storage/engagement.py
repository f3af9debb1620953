"""Engagement kept with the night records: of the evenings delivered, how many the person
answered (DONE or a score), by program week and language.

The counts live in each local date's counters hash (keys.night_stats, 400 days), in fields
`engagement:delivered:<week>/<language>` and `engagement:engaged:<week>/<language>`, written by
the night scripts in the same script that changes the night (lua/engagement_functions.lua:
night_status.lua counts an evening delivered, night_note.lua counts DONE or a score), so a
crash cannot count without the change, and a second callback or DONE counts nothing. This
module owns those fields: it reads them (a few hundred HGETALLs, whatever the number of
people) and recounts them.

recount() is part of `reminders stats --recount`: the night records of the dates whose records
all still exist (the last RECOUNT_DAYS; a record expires keys.NIGHT_TTL_SECONDS after its last
write), found by one SCAN of the night keys, counted again into a scratch hash, compared with
the kept fields, the difference added. Older dates have no records left to count: their counts
stand as kept. A night delivered before these counts existed has no `eng` mark: the recount
counts it (as drift, once), a DONE for it afterwards is not counted until the next recount.
As with the tally (tally.py), evenings counted while it runs can show as drift that is not
there: run it when the service is quiet (or twice).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from reminders.domain import channels as registry
from reminders.storage import codec, keys
from reminders.storage.client import Client, Pipeline
from reminders.storage.keys_counts import ENGAGEMENT_RECOUNT
from reminders.storage.lua import script

PREFIX = "engagement:"
_PREFIX_BYTES = PREFIX.encode()
KINDS = ("delivered", "engaged")
# Dates whose records have not started to expire (45 days after a write on the date itself,
# less a day for the zones east and west of UTC).
RECOUNT_DAYS = keys.NIGHT_TTL_SECONDS // 86_400 - 2
SCAN_COUNT, PAGE = 1000, 100  # keys per SCAN call; records per script call (~1 ms of Redis)


def read(client: Client, dates: Sequence[date]) -> dict[tuple[str, str], dict[str, int]]:
    """(program week, language) -> {"delivered": n, "engaged": n}, summed over `dates`."""
    sums: dict[bytes, int] = defaultdict(int)
    with client.pipeline(transaction=False) as pipe:
        for day in dates:
            pipe.hgetall(keys.night_stats(day))
        for raw in pipe.execute():
            for field, value in raw.items():
                if field.startswith(_PREFIX_BYTES):  # the date's other counters are stats'
                    sums[field] += int(value)
    found: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: dict.fromkeys(KINDS, 0))
    for field, value in sums.items():
        kind, _, bucket = codec.text(field).removeprefix(PREFIX).partition(":")
        if kind in KINDS and value:
            week, _, language = bucket.partition("/")
            found[(week, language)][kind] += value
    return dict(found)


def counted(client: Client, evenings: Sequence[tuple[str, date]]) -> list[tuple[date, str, bool]]:
    """Of one person's evenings (nights.PersonNights.evenings), the ones counted: (date, bucket,
    answered too); forget_in() takes them out of the counts with the records."""
    with client.pipeline(transaction=False) as pipe:
        for subscriber_id, day in evenings:
            pipe.hmget(keys.night(subscriber_id, day), "eng", "eng_done")
        marks = pipe.execute()
    return [(day, codec.text(bucket), done is not None)
            for (_, day), (bucket, done) in zip(evenings, marks, strict=True) if bucket]


def forget_in(pipe: Pipeline, evenings: Sequence[tuple[date, str, bool]]) -> None:
    """An erased person's evenings leave the counts, in the transaction that deletes their
    records (storage/erasure.py), as they leave the tally: a recount then finds no drift."""
    for day, bucket, answered in evenings:
        pipe.hincrby(keys.night_stats(day), f"{PREFIX}delivered:{bucket}", -1)
        if answered:
            pipe.hincrby(keys.night_stats(day), f"{PREFIX}engaged:{bucket}", -1)


def recount_dates(now: datetime) -> list[date]:
    """The local dates a recount checks: today's in every zone, and back RECOUNT_DAYS."""
    tomorrow = now.astimezone(UTC).date() + timedelta(days=1)
    return [tomorrow - timedelta(days=n) for n in range(RECOUNT_DAYS + 2)]


def recount(client: Client, dates: Sequence[date]) -> dict[str, tuple[int, int]]:
    """Count the night records of `dates` again (one SCAN of the night keys, a script a page),
    correct the kept fields; the drift (settle())."""
    client.delete(ENGAGEMENT_RECOUNT)
    evening = json.dumps(list(registry.names()))
    wanted = {day.isoformat(): int(datetime.combine(day, datetime.min.time(), UTC).timestamp())
              for day in dates}
    count = script(client, "night_recount")
    page: list[str] = []
    for raw in client.scan_iter(match=keys.NIGHT_PREFIX + "*", count=SCAN_COUNT):
        page.append(codec.text(raw))
        if len(page) >= PAGE:
            _count_page(count, page, wanted, evening)
            page = []
    _count_page(count, page, wanted, evening)
    return settle(client, dates)


def _count_page(count: Any, names: list[str], wanted: dict[str, int], evening: str) -> None:
    pairs, days = [], []
    for name in names:
        # fc:night:<id>:<date>; a date outside the window: its records may be partly gone
        head, _, day = name.rpartition(":")
        if day in wanted:
            pairs += [name, keys.subscriber(head.removeprefix(keys.NIGHT_PREFIX))]
            days.append(f"{day}|{wanted[day]}")
    if pairs:
        count(keys=[ENGAGEMENT_RECOUNT, *pairs], args=[evening, *days])


def settle(client: Client, dates: Sequence[date]) -> dict[str, tuple[int, int]]:
    """Compare the recount with the kept fields, correct them by the difference; the drift,
    as "engagement:<date>:<kind>:<week>/<language>" -> (kept, counted)."""
    counted: dict[str, dict[str, int]] = defaultdict(dict)
    for field, value in codec.text_hash(client.hgetall(ENGAGEMENT_RECOUNT)).items():
        when, _, name = field.partition("|")
        counted[when][PREFIX + name] = int(value)
    with client.pipeline(transaction=False) as pipe:
        for day in dates:
            pipe.hgetall(keys.night_stats(day))
        kept_by_day = pipe.execute()
    drift: dict[str, tuple[int, int]] = {}
    with client.pipeline(transaction=True) as pipe:
        for day, raw in zip(dates, kept_by_day, strict=True):
            kept = {f: int(v) for f, v in codec.text_hash(raw).items() if f.startswith(PREFIX)}
            found = counted.get(day.isoformat(), {})
            for field in sorted({*kept, *found}):
                had, now = kept.get(field, 0), found.get(field, 0)
                if had != now:
                    drift[f"{PREFIX}{day.isoformat()}:{field.removeprefix(PREFIX)}"] = (had, now)
                    # a delta, so evenings counted while the recount ran still count
                    pipe.hincrby(keys.night_stats(day), field, now - had)
                    pipe.expire(keys.night_stats(day), keys.STATS_TTL_SECONDS, nx=True)
        pipe.delete(ENGAGEMENT_RECOUNT)
        pipe.execute()
    return drift
