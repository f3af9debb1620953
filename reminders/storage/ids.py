"""The small helpers new records are made with: subscriber ids and the current instant."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

# Subscriber ids: random, short and meaningless (they appear in logs instead of phone numbers).
# Nine decimal digits, so that Redis stores an id as an integer, 5 bytes instead of 13, in every
# structure that lists people (due shards, phone index, consent log): ~24 bytes a subscriber.
# Nine digits are a valid phone number nowhere the log masker looks (tests/test_logs.py). The
# space is small enough to collide: Store.create checks, and draws again. Ids of earlier
# versions (12 hex digits) stay valid: an id is only ever compared, never parsed.
ID_LOW, ID_HIGH = 100_000_000, 1_000_000_000


def new_subscriber_id() -> str:
    return str(ID_LOW + secrets.randbelow(ID_HIGH - ID_LOW))


def utcnow() -> datetime:
    return datetime.now(UTC)
