"""`reminders weekly`, `reminders caregiver add|remove`, `reminders consent-export`.

The weekly summary a person would get, their caregiver (who, once both agree by text, gets the
weekly summary and foot-problem alerts), and the consent log an audit asks for.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from reminders.app.compliance import consent_export
from reminders.domain.validation import InvalidInput, parse_date
from reminders.entry.cli.tables import print_json
from reminders.messages.weekly import TooLong
from reminders.settings import ConfigError
from reminders.wiring import Services


def register(sub: Any) -> None:
    p = sub.add_parser("weekly", help="the weekly progress text of that week's summary evening")
    p.add_argument("phone")
    p.add_argument("--date", help="any date of the week (default: today, local)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_weekly)

    p = sub.add_parser("caregiver", help="a caregiver who gets the weekly summary and alerts")
    actions = p.add_subparsers(dest="care_action", required=True, parser_class=type(p))
    add = actions.add_parser("add", help="invite a caregiver (they reply YES, the person CARE YES)")
    add.add_argument("phone")
    add.add_argument("caregiver_phone")
    add.add_argument("--name", default="")
    remove = actions.add_parser("remove", help="end the person's caregiver link")
    remove.add_argument("phone")
    p.set_defaults(handler=cmd_caregiver)

    p = sub.add_parser("consent-export", help="every consent event, for an audit (streamed)")
    p.add_argument("--since", help="ISO 8601 date or time (UTC when no offset)")
    p.add_argument("--format", choices=("csv", "jsonl"), default="csv")
    p.set_defaults(handler=cmd_consent_export)


def cmd_weekly(args: argparse.Namespace, svc: Services) -> int:
    sub = svc.store.require(args.phone)
    day = (parse_date(args.date) if args.date
           else datetime.now(UTC).astimezone(ZoneInfo(sub.timezone)).date())
    try:
        shown = svc.weekly.preview(sub, day)
    except TooLong as exc:
        raise ConfigError(f"PROGRAM_NAME or SMS_MAX_SEGMENTS: {exc}") from None
    if args.json:
        print_json(shown)
        return 0
    print(f"Weekly text for the evening of {shown['date']} ({shown['week']}, "
          f"{shown['sms']['segments']} segment(s), {shown['sms']['encoding']}):\n")
    print(shown["sms"]["body"])
    if not shown["weekly_ok"]:
        print("\n(not sent: they texted WEEKLY OFF)")
    if shown["caregiver_sms"]:
        print(f"\nTo their caregiver (only while both agree):\n{shown['caregiver_sms']}")
    return 0


def cmd_caregiver(args: argparse.Namespace, svc: Services) -> int:
    sub = svc.store.require(args.phone)
    care = svc.caregivers(datetime.now(UTC))
    if args.care_action == "remove":
        before = care.remove(sub)
        print(f"removed the caregiver of {sub.handle()}" if before
              else f"{sub.handle()} has no caregiver")
        return 0
    if not sub.phone:
        raise InvalidInput("the person needs a phone number to send CARE YES")
    link = care.add(sub, args.caregiver_phone, args.name)
    print(f"invited {link.phone} as the caregiver of {sub.handle()}: they reply YES, and "
          f"{sub.handle()} texts CARE YES; until both do, the caregiver gets nothing else")
    return 0


def cmd_consent_export(args: argparse.Namespace, svc: Services) -> int:
    since = consent_export.parse_since(args.since)
    count = consent_export.write(svc.store, sys.stdout, since, args.format)
    sys.stdout.flush()
    print(f"{count} event(s)", file=sys.stderr)
    return 0
