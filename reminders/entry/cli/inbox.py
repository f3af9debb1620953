"""`reminders inbox`: what needs a person (review items), taking one, closing one.

`inbox [--json] [--all]` lists the open items, most urgent first and then the oldest (with
--all, the handled ones after them); `inbox take ID` makes the operator its owner (which stops
its escalation); `inbox close ID --outcome O --note TEXT` closes it (a flag item clears the
person's flag too). The unreachable list follows the table.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from typing import Any

from rich.table import Table

from reminders.app.care import inbox
from reminders.app.care.review import OUTCOMES
from reminders.entry.cli import tables
from reminders.entry.cli.flags import _operator
from reminders.wiring import Services

JSON_FIELDS = ("id", "phone", "at", "level", "category", "state", "due_by", "owner", "outcome",
               "kind", "name", "local_at", "text", "reply", "note", "overdue")


def register(sub: Any) -> None:
    p = sub.add_parser("inbox", help="texts and events that need a person, most urgent first")
    p.add_argument("--json", action="store_true")
    p.add_argument("--all", action="store_true", help="also the handled ones")
    actions = p.add_subparsers(dest="inbox_action", parser_class=type(p))
    take = actions.add_parser("take", help="take an item: you own it, its escalation stops")
    take.add_argument("item")
    close = actions.add_parser("close", help="close an item with its outcome and a note")
    close.add_argument("item")
    close.add_argument("--outcome", required=True, choices=OUTCOMES)
    close.add_argument("--note", required=True, help="what happened (kept with the item)")
    p.set_defaults(handler=cmd_inbox)


def cmd_inbox(args: argparse.Namespace, svc: Services) -> int:
    now = datetime.now(UTC)
    action = getattr(args, "inbox_action", None)
    if action == "take":
        item = svc.reviews.take(args.item, _operator(), now)
        print(f"item {item['id']} is yours ({item['owner']})")
        return 0
    if action == "close":
        item = svc.reviews.close(svc.store, args.item, args.outcome, args.note, _operator(), now)
        print(f"item {item['id']} closed: {item['outcome']}")
        return 0
    rows = inbox.entries(svc.store, svc.reviews, now, include_closed=args.all)
    if args.json:
        print(json.dumps([{k: row[k] for k in JSON_FIELDS} for row in rows], indent=2,
                         ensure_ascii=False))
        return 0
    table = Table(show_edge=False, pad_edge=False)
    for header in ("id", "when (their time)", "who", "level", "what", "state", "due", "owner",
                   "their words", "replied"):
        table.add_column(header, overflow="fold")
    for row in rows:
        state = "needs review" if row["state"] == "needs_review" else f"handled: {row['outcome']}"
        table.add_row(row["id"], row["local_at"], row["name"] or row["phone"], row["level"],
                      f"{row['kind']}: {row['category']}", state,
                      ("OVERDUE " if row["overdue"] else "") + row["due_local"], row["owner"],
                      row["text"], row["reply"])
    tables.stdout_console().print(table)
    waiting = sum(row["state"] == "needs_review" for row in rows)
    print(f"{waiting} item(s) need review")
    for person in inbox.unreachable_people(svc.store):
        print(f"unreachable: {person['handle']} {person['name']} (error {person['code']}, "
              f"{person['local_at']})")
    return 0


def print_loop(loop: dict[str, Any]) -> None:
    """`stats`: the care-team loop's weekly figures and the open items by level and age."""
    table = Table(show_edge=False, pad_edge=False, title="Care-team loop, by week")
    for header in ("week", "median minutes to acknowledge", "closed (outcome: n)",
                   "past deadline", "check-ins sent / answered", "escalated (1st / 2nd)"):
        table.add_column(header, overflow="fold")
    for week in loop["weeks"]:
        acks = ", ".join(f"{level} {minutes:g}" for level, minutes in
                         week["ack_median_minutes"].items()) or "-"
        closed = ", ".join(f"{name}: {n}" for name, n in week["outcomes"].items() if n) or "-"
        table.add_row(week["week"], acks, closed, str(week["past_deadline"]),
                      f"{week['checkin_sent']} / {week['checkin_answered']}",
                      f"{week['escalated_1']} / {week['escalated_2']}")
    console = tables.stdout_console()
    console.print(table)
    waiting = {level: sum(ages.values()) for level, ages in loop["open"].items()}
    console.print("Open review items: " + ", ".join(f"{level} {n}" for level, n in
                                                     waiting.items()))
