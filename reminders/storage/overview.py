"""What `show` and `list` need about many people, read in one pipelined round trip per batch
(app/records/person_json.py): each person's next instant, newest final evening, open reports and
caregiver link. Each part is queued by its owning module's `*_in` function; this module only batches
them and hands back typed records.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from reminders.storage import caregivers, codec, due_index, flags, nights
from reminders.storage.caregivers import Link
from reminders.storage.client import Client


@dataclass(frozen=True)
class Overview:
    next_due: datetime | None
    last_final: date | None  # the newest of the asked days with a final state, if any
    last_record: dict[str, str]  # that evening's night record ({} if none)
    reports: list[dict[str, str]]  # open foot-problem reports, as stored (flag or not)
    link: Link | None


def read(client: Client, people: Sequence[tuple[str, list[date]]]) -> list[Overview]:
    """(subscriber id, days to look at, newest first) -> their Overview, in the same order."""
    with client.pipeline(transaction=False) as pipe:
        for subscriber_id, days in people:
            due_index.next_due_in(pipe, subscriber_id)
            nights.last_final_in(pipe, subscriber_id, days)
            flags.read_in(pipe, subscriber_id)
            caregivers.read_in(pipe, subscriber_id)
        replies = pipe.execute()
    return [_overview(subscriber_id, days, replies[4 * n: 4 * n + 4])
            for n, (subscriber_id, days) in enumerate(people)]


def _overview(subscriber_id: str, days: list[date], replies: list[Any]) -> Overview:
    score, found, reports, link = replies
    index, flat = int(found[0]), found[1]
    record = codec.text_hash(dict(zip(flat[::2], flat[1::2], strict=True))) if index else {}
    return Overview(datetime.fromtimestamp(score, tz=UTC) if score is not None else None,
                    days[index - 1] if index else None, record, flags.decode(reports),
                    caregivers.decoded(subscriber_id, link))
