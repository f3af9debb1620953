"""The inbox: texts a person on the care team should read (keys.INBOX, one Redis stream).

Written by the inbound path (app/replies/inbound.py) for every text the line did not understand and
for every text the triage answered at the levels that need a person (emergency, crisis, urgent, same
day, soon): the number, the subscriber id (empty for an unknown number), when, the words, the level
and category, and the language. Read by the review screens (`reminders inbox`, later). The stream is
capped at MAX_ENTRIES (oldest dropped first); `forget` erases a person's entries.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

from reminders.storage import codec, keys
from reminders.storage.client import Client

MAX_ENTRIES = 100_000
MAX_TEXT = 1600  # Twilio's longest inbound body
FORGET_PAGE = 1000


@dataclass(frozen=True)
class Item:
    phone: str
    subscriber: str  # "" for a number that is not a subscriber
    at: str  # ISO 8601, UTC
    text: str
    level: str
    category: str
    language: str


def add(client: Client, item: Item) -> str:
    fields = {**asdict(item), "text": item.text[:MAX_TEXT]}
    entry_id = client.xadd(keys.INBOX, fields,  # type: ignore[arg-type]
                           maxlen=MAX_ENTRIES, approximate=True)
    return codec.text(entry_id)


def read(client: Client, count: int = 100) -> list[tuple[str, Item]]:
    """The newest `count` items, newest first."""
    entries: Any = client.xrevrange(keys.INBOX, "+", "-", count=count)
    return [(codec.text(eid), _item(fields)) for eid, fields in entries]


def export(client: Client, since_ms: int = 0, page: int = FORGET_PAGE
           ) -> Iterator[tuple[str, Item]]:
    """Every item from `since_ms` on, oldest first, a page (XRANGE ... COUNT) at a time."""
    start = f"{since_ms}-0"
    while True:
        entries: Any = client.xrange(keys.INBOX, start, "+", count=page)
        for eid, fields in entries:
            yield codec.text(eid), _item(fields)
        if len(entries) < page:
            return
        start = "(" + codec.text(entries[-1][0])


def _item(fields: dict[bytes, bytes]) -> Item:
    decoded = {codec.text(k): codec.text(v) for k, v in fields.items()}
    return Item(**{name: decoded.get(name, "") for name in Item.__dataclass_fields__})


def _about(fields: dict[bytes, bytes], phone: str, subscriber_id: str) -> bool:
    if codec.text(fields.get(b"phone", b"")) == phone:
        return True
    return bool(subscriber_id) and codec.text(fields.get(b"subscriber", b"")) == subscriber_id


def forget(client: Client, phone: str, subscriber_id: str) -> int:
    """Erase every item from this number or about this subscriber; how many went."""
    gone, start = 0, "-"
    while True:
        entries: Any = client.xrange(keys.INBOX, start, "+", count=FORGET_PAGE)
        doomed = [eid for eid, fields in entries if _about(fields, phone, subscriber_id)]
        if doomed:
            gone += int(client.xdel(keys.INBOX, *doomed))
        if len(entries) < FORGET_PAGE:
            return gone
        start = "(" + codec.text(entries[-1][0])
