"""The commands about one person: set, preview, schedule, send-now, reply, forget."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from reminders.app.people import preferences
from reminders.app.people.forget import forget
from reminders.app.records.history import tonight_date
from reminders.app.records.person_json import iso_z
from reminders.domain.schedule import upcoming
from reminders.domain.validation import InvalidInput, normalise_phone, parse_date
from reminders.entry.cli.tables import print_json as _out
from reminders.wiring import Services


def cmd_set(args: argparse.Namespace, svc: Services) -> int:
    sub = svc.store.require(args.phone)
    updated = preferences.update(svc.store, svc.confirmations, sub, args.assignments,
                                 windows=svc.settings.windows)
    after = updated.sub
    for problem in updated.problems:
        print(f"warning: {problem}")
    nxt = svc.store.next_due(after.id)
    print(f"updated {after.handle()}; next reminder {iso_z(nxt) if nxt else 'not scheduled'}")
    waiting = [what for what, pending in (("the number", after.sms_status == "pending"),
                                          ("the address", after.email_status == "pending"))
               if pending]
    if waiting:
        print(f"{' and '.join(waiting)} wait(s) for its owner's confirmation (YES / the link)")
    return 0


def cmd_preview(args: argparse.Namespace, svc: Services) -> int:
    sub = svc.store.require(args.phone)
    day = parse_date(args.date) if args.date else tonight_date(sub)
    unsubscribe = svc.composer.unsubscribe_url(sub) if sub.email else None
    tonight = svc.renderer.tonight(sub, day, unsubscribe)  # exactly what the sender uses
    if args.json:
        _out(tonight.preview())
    else:
        print(f"SMS for {day} ({tonight.sms.segments} segment(s), {tonight.sms.encoding}):\n")
        print(tonight.sms.body)
        print(f"\nEmail subject: {tonight.email.subject}\n\n{tonight.email.text}")
    return 0


def cmd_schedule(args: argparse.Namespace, svc: Services) -> int:
    sub = svc.store.require(args.phone)
    start = _parse_instant(args.start) if args.start else datetime.now(UTC)
    if not 1 <= args.days <= 3660:
        raise InvalidInput("--days must be between 1 and 3660")
    tz = ZoneInfo(sub.timezone)
    rows = [{"utc": iso_z(i.utc), "local": i.utc.astimezone(tz).isoformat()}
            for i in upcoming(sub.send_time, tz, start, args.days)]
    if args.json:
        _out(rows)
    else:
        for row in rows:
            print(f"{row['utc']}  {row['local']}")
    return 0


def _parse_instant(raw: str) -> datetime:
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"not an ISO 8601 date-time: {raw!r}") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def cmd_send_now(args: argparse.Namespace, svc: Services) -> int:
    from reminders.entry.cli.send_now import send_now

    print("\n".join(send_now(svc, svc.store.require(args.phone), datetime.now(UTC))))
    return 0


def cmd_reply(args: argparse.Namespace, svc: Services) -> int:
    """Run TEXT through the inbound handler as if PHONE had texted it (at --at, default now);
    print the reply, alone on stdout (logs go to stderr), or with --json what was made of it."""
    phone = normalise_phone(args.phone)
    at = datetime.now(UTC)
    if args.at:
        try:
            at = datetime.fromisoformat(args.at.replace("Z", "+00:00"))
        except ValueError:
            raise InvalidInput(f"--at {args.at!r} is not an ISO 8601 instant") from None
        if at.tzinfo is None:
            raise InvalidInput("--at needs a UTC offset (e.g. 2027-03-10T02:30:00Z)")
    inbound = svc.inbound(at.astimezone(UTC))
    # Anything else printed while handling it (a console-backend caregiver alert) goes to
    # stderr: stdout carries only the answer, for scripts and support staff.
    with contextlib.redirect_stdout(sys.stderr):
        reply = inbound.handle(phone, " ".join(args.text))
    if args.json:
        heard = inbound.last
        print(json.dumps({"reply": reply, "command": heard.command,
                          "triage": {"level": str(heard.triage.level),
                                     "category": heard.triage.category},
                          "flag": heard.flag}, ensure_ascii=False))
        return 0
    print(reply if reply is not None else "(no reply)")
    return 0


def cmd_forget(args: argparse.Namespace, svc: Services) -> int:
    sub = svc.store.require(args.phone)
    forget(svc.store, sub)
    kept = sub.sms_status == "opted_out" or sub.email_status == "unsubscribed"
    print(f"forgot {sub.handle()}" + ("; kept only their opt-out" if kept else ""))
    return 0
