"""`reminders window-apply [--dry-run] [--json]`, `reminders registration-kit [--out DIR]` and
`reminders reconfirm [--json]` (the yearly re-confirmation, app/compliance/reconfirm.py: run it
daily): what a carrier's or a lawyer's review asks of the program (README, "Compliance").

window-apply moves the people whose evening time is outside their send window (SEND_WINDOW,
STATE_WINDOWS) to the nearest allowed time, and texts each one whose SMS consent is active
the new time: app/compliance/outside_window.py. Run it with --dry-run first (nothing saved, nothing
sent).
"""

from __future__ import annotations

import argparse
import sys
from contextlib import nullcontext, redirect_stdout
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from reminders.app.compliance import outside_window, reconfirm
from reminders.domain.validation import InvalidInput
from reminders.entry.cli.tables import print_json
from reminders.messages import kit
from reminders.wiring import Services


def register(sub: Any) -> None:
    p = sub.add_parser("window-apply", help="move people whose time is outside their send "
                                            "window to the nearest allowed time")
    p.add_argument("--dry-run", action="store_true", help="only list who would move, and where")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_window_apply)

    p = sub.add_parser("registration-kit", help="10DLC campaign fields, opt-in flow, sample "
                                                "messages, SMS terms, an opt-in page")
    p.add_argument("--out", default="registration-kit", help="folder to write (default: "
                                                             "./registration-kit)")
    p.set_defaults(handler=cmd_registration_kit)

    p = sub.add_parser("reconfirm", help="the yearly re-confirmation: ask who is due, pause "
                                         "who did not answer in 14 days (run daily)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_reconfirm)


def cmd_window_apply(args: argparse.Namespace, svc: Services) -> int:
    # With --json, stdout is the JSON: the console backend's copy of each text goes to stderr.
    with redirect_stdout(sys.stderr) if args.json else nullcontext():
        done = outside_window.apply(svc.store, svc.settings.windows, datetime.now(UTC),
                                    args.dry_run, notices=svc.time_notices)
    if args.json:  # told: texted the new time (only when not --dry-run)
        print_json([{**item.row(), "told": item.sub.id in done.told} for item in done.people])
        return 0
    verb = "would move" if args.dry_run else "moved"
    for item in done.people:
        row = item.row()
        told = ", texted" if item.sub.id in done.told else ""
        print(f"{verb} {row['phone'] or row['email']}: {row['time']} -> {row['moves_to']} "
              f"(window {row['window']}{told})")
    for problem in done.problems:
        print(f"warning: {problem}")
    print(f"{len(done.people)} person(s) outside the send window "
          f"({svc.settings.windows.describe()})"
          + ("; nothing changed or sent (--dry-run)" if args.dry_run
             else f"; {len(done.told)} told by text"))
    return 1 if done.problems else 0


def kit_input(svc: Services) -> kit.KitInput:
    s = svc.settings
    return kit.KitInput(s.templates_dir, s.program_name, s.support_contact, s.sms_max_segments,
                        s.twilio_from_number, s.windows.describe())


def cmd_registration_kit(args: argparse.Namespace, svc: Services) -> int:
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise InvalidInput(f"--out {args.out}: not a folder")
    files = kit.build(kit_input(svc))  # everything rendered before anything is written
    out.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (out / name).write_text(content, encoding="utf-8")
        print(out / name)
    return 0


def cmd_reconfirm(args: argparse.Namespace, svc: Services) -> int:
    with redirect_stdout(sys.stderr) if args.json else nullcontext():
        done = svc.reconfirmations.run(datetime.now(UTC))
    if args.json:
        print_json({"asked": done.asked, "paused": done.paused, "problems": done.problems})
        return 0
    for problem in done.problems:
        print(f"warning: {problem}")
    print(f"asked {len(done.asked)}, paused {len(done.paused)} (no answer in "
          f"{reconfirm.ANSWER_DAYS} days)")
    return 0
