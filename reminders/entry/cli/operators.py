"""`reminders operator add|remove|list`: the accounts of the operators' web console."""

from __future__ import annotations

import argparse
import getpass
import sys
from datetime import UTC, datetime
from typing import Any

from reminders.app.console import operators
from reminders.domain.validation import InvalidInput
from reminders.entry.cli import tables
from reminders.wiring import Services


def register(sub: Any) -> None:
    p = sub.add_parser("operator", help="accounts for the web console (/console)")
    actions = p.add_subparsers(dest="operator_action", required=True, parser_class=type(p))
    add = actions.add_parser("add", help="create an account, or set a new password")
    add.add_argument("email")
    add.add_argument("--password-stdin", action="store_true",
                     help="read the password from the first line of standard input")
    remove = actions.add_parser("remove", help="delete an account (its sessions end at once)")
    remove.add_argument("email")
    listing = actions.add_parser("list", help="the accounts")
    listing.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_operator)


def cmd_operator(args: argparse.Namespace, svc: Services) -> int:
    if args.operator_action == "add":
        password = _password(args.password_stdin)
        new = operators.add(svc.store, args.email, password, datetime.now(UTC), by=_who())
        email = args.email.strip()
        print(f"added operator {email}; log in at {svc.settings.public_url}/console" if new
              else f"new password for operator {email}; their earlier logins have ended")
        return 0
    if args.operator_action == "remove":
        operators.remove(svc.store, args.email, by=_who())
        print(f"removed operator {args.email.strip()}; their logins have ended")
        return 0
    rows = operators.listed(svc.store)
    if args.json:
        tables.print_json(rows)
    else:
        for row in rows:
            print(f"{row['email']}  (since {row['created_at']})")
        print(f"{len(rows)} operator(s)")
    return 0


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    try:
        first = getpass.getpass("Password: ")
        again = getpass.getpass("Password again: ")
    except EOFError:
        raise InvalidInput("no password given (use --password-stdin to pipe one)") from None
    if first != again:
        raise InvalidInput("the two passwords differ")
    return first


def _who() -> str:
    """Who ran the command, for the audit log."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"
