"""Finding people for the operators' console: search, filter, one page at a time, from indexes
(never a scan of the records).

A full phone number (any format) or an email address is looked up in its index (one read).
Anything else is the start of a name, looked up in the name index (storage/names.py: sorted
sets of normalised names, one per pair of consent states and one of the flagged): the page is
a ZRANGE BYLEX with LIMIT (the first entries of each set a filter covers, merged) and the total
a ZLEXCOUNT, whatever the number of people. Only the page shown
is then read and described in full (report.describe_all, what `show` prints).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from reminders.app.care import flags
from reminders.app.records.person_json import describe_all
from reminders.domain.states import EmailStatus, SmsStatus
from reminders.domain.subscriber import Subscriber
from reminders.domain.validation import InvalidInput, looks_like_email
from reminders.storage import names
from reminders.storage.subscribers import Store

PER_PAGE = 50
MAX_QUERY = 100
# The filter's choices: "sms:<state>", "email:<state>", "flagged"; "" for everyone.
STATES = ("", *(f"sms:{s}" for s in SmsStatus), *(f"email:{s}" for s in EmailStatus),
          "flagged")


@dataclass(frozen=True)
class Page:
    rows: list[dict[str, Any]]  # what `show --json` prints, for each person on the page
    total: int  # people matching, on every page
    page: int
    pages: int


def search(store: Store, query: str, state: str, page: int, now: datetime,
           per_page: int = PER_PAGE) -> Page:
    """Page `page` (from 1) of the people matching `query` and `state`, by name then id."""
    query = " ".join(query.split())[:MAX_QUERY]
    if state not in STATES:
        raise InvalidInput(f"unknown state filter {state!r}")
    found = _exact(store, query)
    if found is not None:  # the person that number or address names, if in that state
        subs = [sub for sub in map(store.get, found)
                if sub is not None and _in_state(sub, state, now)]
        return Page(list(describe_all(store, subs, now)), len(subs), 1, 1)
    sets = _sets(store, state)
    prefix = names.key(query)
    total = store.names.count(sets, prefix)
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    shown = store.names.page(sets, prefix, (page - 1) * per_page, per_page)
    subs = [sub for sub in map(store.get, shown) if sub is not None]
    return Page(list(describe_all(store, subs, now)), total, page, pages)


def _sets(store: Store, state: str) -> list[str]:
    """The name index's sets that hold the people in `state`: everyone is in the set of their
    two consent states ("active/none"); the kept counts say which of those sets have people."""
    if state == "flagged":
        return ["flagged"]
    kind, _, value = state.partition(":")
    found = []
    for both in store.tally.read().of("state"):
        sms, _, email = both.partition("/")
        if not kind or (kind, value) in (("sms", sms), ("email", email)):
            found.append(both)
    return sorted(found)


def _exact(store: Store, query: str) -> list[str] | None:
    """The one person a full phone number or address names; None when it is not one."""
    if not query or not (looks_like_email(query) or re.fullmatch(r"\+?[\d\s().-]{7,}", query)):
        return None
    try:
        found = store.id_for(query)
    except InvalidInput:
        return None  # not a valid number or address: search it as a name
    return [found] if found else []


def _in_state(sub: Subscriber, state: str, now: datetime) -> bool:
    kind, _, value = state.partition(":")
    if kind == "sms":
        return str(sub.sms_status) == value
    if kind == "email":
        return str(sub.email_status) == value
    if kind == "flagged":
        return flags.is_open(sub, now)
    return True
