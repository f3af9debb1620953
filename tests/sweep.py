"""The evenings a content sweep reads.

`make test` (and CI) reads every evening of a year. `make check`, the inner loop a developer
runs while working, sets REMINDERS_QUICK=1 and reads every 5th evening (73 of them: every
weekday, every month); the full year is still read before anything lands.
"""

from __future__ import annotations

import os
from datetime import date, timedelta

QUICK = os.environ.get("REMINDERS_QUICK", "") not in ("", "0")
STEP = 5 if QUICK else 1


def year(start: date = date(2027, 1, 1)) -> list[date]:
    return [start + timedelta(days=n) for n in range(0, 365, STEP)]


def evenings(count: int, start: date = date(2027, 1, 1)) -> list[date]:
    """`count` evenings in a row (for what must hold over consecutive evenings: variety)."""
    return [start + timedelta(days=n) for n in range(count)]
