"""`reminders flags`: open foot-problem reports for the people who follow up, and clearing one.

A flag is cleared once someone has spoken to the person: the clearing, with the note, goes into
the consent/audit log, and massage and heat come back as their own settings allow.
"""

from __future__ import annotations

import argparse
import getpass
import json
from datetime import UTC, datetime
from typing import Any

from rich.table import Table

from reminders.app import flags
from reminders.entry.cli import tables
from reminders.wiring import Services


def register(sub: Any) -> None:
    p = sub.add_parser("flags", help="open foot-problem reports (red flags) to follow up")
    p.add_argument("--json", action="store_true")
    actions = p.add_subparsers(dest="flags_action", parser_class=type(p))
    clear = actions.add_parser("clear", help="close a person's flag once someone has called them")
    clear.add_argument("phone")
    clear.add_argument("--note", default="", help="what was agreed (kept in the audit log)")
    p.set_defaults(handler=cmd_flags)


def cmd_flags(args: argparse.Namespace, svc: Services) -> int:
    now = datetime.now(UTC)
    if getattr(args, "flags_action", None) == "clear":
        sub = svc.store.require(args.phone)
        if not flags.is_open(sub, now):
            print(f"{sub.handle()} has no open flag")
            return 0
        flags.clear(svc.store, sub, " ".join(args.note.split())[:160], _operator(), now)
        print(f"cleared the flag of {sub.handle()}")
        return 0
    rows = [_row(found) for found in flags.all_open(svc.store, now)]
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return 0
    table = Table(show_edge=False, pad_edge=False)
    for header in ("since", "phone / email", "name", "category", "their words"):
        table.add_column(header, overflow="fold")
    for row in rows:
        for report in row["reports"]:
            table.add_row(report["at"], row["handle"], row["name"], report["category"],
                          report["text"])
    tables.stdout_console().print(table)
    print(f"{len(rows)} person(s) with an open flag")
    return 0


def _row(found: flags.OpenFlag) -> dict[str, Any]:
    sub = found.subscriber
    return {"phone": sub.phone, "email": sub.email, "handle": sub.handle(), "name": sub.name,
            "since": found.oldest,
            "until": sub.flag_until.isoformat() if sub.flag_until else None,
            "reports": found.reports}


def _operator() -> str:
    """Who cleared it, for the audit log (the console passes its logged-in operator)."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"
