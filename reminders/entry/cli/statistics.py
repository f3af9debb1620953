"""`reminders stats`: people by state from the kept counts (storage/tally.py), sends and
deliveries per night, the care team's loop figures; `--recount` counts every record again and
reports any drift; `--windows` lists the people outside their send window (a read of every
record, so only when asked).
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

from reminders.app.care import loop_stats
from reminders.app.compliance import outside_window
from reminders.app.records import stats
from reminders.domain.validation import InvalidInput
from reminders.entry.cli import inbox as cli_inbox
from reminders.entry.cli import tables
from reminders.wiring import Services

_out = tables.print_json


def register(sub: Any) -> None:
    p = sub.add_parser("stats", help="subscribers by state; sends and deliveries per night")
    p.add_argument("--days", type=int, default=7, help="how many local nights (default 7)")
    p.add_argument("--recount", action="store_true",
                   help="count every record again first, report and correct any drift")
    p.add_argument("--windows", action="store_true",
                   help="also list the people whose time is outside their send window (reads "
                        "every record)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_stats)


def cmd_stats(args: argparse.Namespace, svc: Services) -> int:
    if not 1 <= args.days <= stats.MAX_DAYS:
        raise InvalidInput(f"--days must be between 1 and {stats.MAX_DAYS}")
    drift = stats.recount(svc.store, datetime.now(UTC)) if args.recount else None
    result = stats.compute(svc.store, args.days)
    result["loop"] = loop_stats.figures(svc.store, datetime.now(UTC))
    if args.windows:  # a read of every record: only when asked
        result["outside_window"] = [item.row() for item in
                                    outside_window.outside(svc.store.all(), svc.settings.windows)]
    if args.json:
        _out({**result, "recount": drift.as_json()} if drift else result)
        return 0
    if drift is not None:
        print(f"Recounted {drift.records} record(s): " + (", ".join(
            f"{field} kept {kept}, counted {counted}"
            for field, (kept, counted) in drift.fields.items()) or "no drift") + ".")
    subscribers = result["subscribers"]
    console = tables.stdout_console()
    console.print(f"Subscribers: {subscribers['total']}, paused: {subscribers['paused']}, "
                  f"open foot-problem flags: {subscribers['flags_open']}")
    console.print(tables.states_table(subscribers))
    console.print(f"Last {args.days} night(s), newest first (skipped: opt-out / paused / other)")
    console.print(tables.nights_table(result["nights"]))
    if line := stats.unreadable_line(result["unreadable"]):
        console.print(line)
    for row in result.get("outside_window", []):  # window-apply --dry-run shows the moves
        console.print(f"Outside the send window: {row['phone'] or row['email']} at "
                      f"{row['time']} (window {row['window']})")
    cli_inbox.print_loop(result["loop"])
    return 0
