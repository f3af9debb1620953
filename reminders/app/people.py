"""Finding people for the operators' console: search, filter, one page at a time.

A phone number or an email address is looked up in its index (one read). Anything else is
matched against a few fields of every record (phone, email, name, the two consent states),
read with HMGET a SCAN page per round trip, never whole records; only the page shown is then
described in full (report.describe_all, what `show` prints). With 10,000 people that is one
pass over short fields, not 10,000 record decodes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from reminders.app import flags
from reminders.app.report import describe_all
from reminders.domain.states import EmailStatus, SmsStatus
from reminders.domain.validation import InvalidInput, looks_like_email
from reminders.storage import flags as reports_store
from reminders.storage.subscriber_codec import LEGACY, NAME, PHONE
from reminders.storage.subscribers import Store

PER_PAGE = 50
MAX_QUERY = 100
# The subscriber hash's fields a search reads (storage/subscriber_codec.py to_hash), each under its
# current name and the name older records still carry (LEGACY: rewritten on their next save).
_FIELDS = (PHONE, LEGACY[PHONE], "email", NAME, LEGACY[NAME], "sms", "em")
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
    """Page `page` (from 1) of the people matching `query` and `state`, by name then handle."""
    query = " ".join(query.split())[:MAX_QUERY]
    if state not in STATES:
        raise InvalidInput(f"unknown state filter {state!r}")
    ids = _exact(store, query)
    if ids is None:
        ids = _matching(store, query.lower(), state)
    elif ids and state:  # the person that number names, if they are in that state
        ids = _matching(store, "", state, only=set(ids))
    if state == "flagged":
        ids = _still_open(store, ids, now)
    pages = max(1, -(-len(ids) // per_page))
    page = min(max(page, 1), pages)
    shown = ids[(page - 1) * per_page: page * per_page]
    subs = [sub for sub in map(store.get, shown) if sub is not None]
    return Page(list(describe_all(store, subs, now)), len(ids), page, pages)


def _exact(store: Store, query: str) -> list[str] | None:
    """The one person a full phone number or address names; None when it is not one."""
    if not query or not (looks_like_email(query) or re.fullmatch(r"\+?[\d\s().-]{7,}", query)):
        return None
    try:
        found = store.id_for(query)
    except InvalidInput:
        return None  # not a valid number or address: search it as text
    return [found] if found else []


def _matching(store: Store, needle: str, state: str, only: set[str] | None = None
              ) -> list[str]:
    flagged = set(reports_store.open_ids(store.redis)) if state == "flagged" else None
    digits = re.sub(r"\D", "", needle)
    found: list[tuple[str, str, str]] = []
    for subscriber_id, values in store.some_fields_of_all(_FIELDS):
        if only is not None and subscriber_id not in only:
            continue
        phone, old_phone, email, name, old_name, sms, em = values
        phone, name = phone or old_phone, name or old_name
        if flagged is not None and subscriber_id not in flagged:
            continue
        if state.startswith("sms:") and (sms or "none") != state[4:]:
            continue
        if state.startswith("email:") and (em or "none") != state[6:]:
            continue
        if needle and not (needle in name.lower() or needle in email.lower()
                           or (digits and digits in phone)):
            continue
        found.append((name.lower(), phone or email, subscriber_id))
    return [subscriber_id for *_, subscriber_id in sorted(found)]


def _still_open(store: Store, ids: list[str], now: datetime) -> list[str]:
    """A report list can outlive its flag's evenings: keep only flags still open."""
    return [i for i in ids if (sub := store.get(i)) is not None and flags.is_open(sub, now)]
