"""`reminders flags`: open foot-problem reports for the people who follow up, and closing one.

A flag never closes by itself. It is closed with an outcome (reached, left_message, referred,
unreachable, not_a_problem) and a note: both go into the consent/audit log, and massage, heat,
walking and standing items come back as the person's own settings allow.
"""

from __future__ import annotations

import argparse
import getpass
import json
from datetime import UTC, datetime
from typing import Any

from rich.table import Table

from reminders.app.care import flags
from reminders.domain.validation import InvalidInput
from reminders.entry.cli import tables
from reminders.wiring import Services


def register(sub: Any) -> None:
    p = sub.add_parser("flags", help="open foot-problem reports (red flags) to follow up")
    p.add_argument("--json", action="store_true")
    actions = p.add_subparsers(dest="flags_action", parser_class=type(p))
    clear = actions.add_parser("clear", help="close a person's flag once someone has called them")
    clear.add_argument("phone")
    clear.add_argument("--outcome", required=True, choices=flags.OUTCOMES,
                       help="how the follow-up ended")
    clear.add_argument("--note", required=True,
                       help="what was said or agreed (kept in the audit log)")
    p.set_defaults(handler=cmd_flags)


def cmd_flags(args: argparse.Namespace, svc: Services) -> int:
    now = datetime.now(UTC)
    if getattr(args, "flags_action", None) == "clear":
        sub = svc.store.require(args.phone)
        if not flags.is_open(sub, now):
            print(f"{sub.handle()} has no open flag")
            return 0
        note = " ".join(args.note.split())[:160]
        if not note:
            raise InvalidInput("--note must say what happened (kept in the audit log)")
        closed = svc.reviews.close_flag(svc.store, sub, args.outcome, note, _operator(), now)
        print(f"cleared the flag of {sub.handle()} ({args.outcome}; {closed} review item(s) "
              "closed)")
        return 0
    rows = [_row(found) for found in flags.all_open(svc.store, now)]
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return 0
    table = Table(show_edge=False, pad_edge=False)
    for header in ("since", "phone / email", "name", "level", "category", "their words"):
        table.add_column(header, overflow="fold")
    for row in rows:
        for report in row["reports"]:
            table.add_row(report["at"], row["handle"], row["name"], report.get("level", ""),
                          report["category"], report.get("text", ""))
    tables.stdout_console().print(table)
    print(f"{len(rows)} person(s) with an open flag")
    return 0


def _row(found: flags.OpenFlag) -> dict[str, Any]:
    sub = found.subscriber
    return {"phone": sub.phone, "email": sub.email, "handle": sub.handle(), "name": sub.name,
            "since": found.oldest,
            "reports": found.reports}


def _operator() -> str:
    """Who cleared it, for the audit log (the console passes its logged-in operator)."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"
