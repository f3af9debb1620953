"""`reminders report` (the one-page visit report) and `reminders fhir-export` (FHIR NDJSON).

Both hand a person's records to someone outside the service: each is an operator action with
an audit line (who: `cli:<login>`; what; whose), and writes files readable by their owner only.
"""

from __future__ import annotations

import argparse
import getpass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from reminders.app.compliance import consent_export
from reminders.app.records import audit, fhir_export, visit_report
from reminders.app.records.private_files import write_private
from reminders.domain.validation import InvalidInput
from reminders.messages import visit_report as printed
from reminders.settings import ConfigError
from reminders.wiring import Services


def register(sub: Any) -> None:
    p = sub.add_parser("report", help="the one-page visit report for the person's clinician")
    p.add_argument("phone")
    p.add_argument("--weeks", type=int, default=12)
    p.add_argument("--format", choices=("pdf", "html"), default="pdf")
    p.add_argument("--paper", choices=printed.PAPERS, default="letter")
    p.add_argument("--out", required=True, help="the file to write (0600)")
    p.set_defaults(handler=cmd_report)

    p = sub.add_parser("fhir-export", help="FHIR R4 NDJSON, one file per resource type")
    p.add_argument("--since", help="ISO 8601 date or time (UTC when no offset)")
    p.add_argument("--person", help="one person's phone or email")
    p.add_argument("--with-text", action="store_true",
                   help="include the words of texts received (off: minimum necessary)")
    p.add_argument("--out", required=True, help="the folder to write into")
    p.set_defaults(handler=cmd_fhir_export)


def who() -> str:
    return f"cli:{getpass.getuser()}"


def _out_path(raw: str, folder: bool) -> Path:
    path = Path(raw)
    parent = path if folder else path.parent
    if folder and path.exists() and not path.is_dir():
        raise InvalidInput(f"--out {raw!r} is a file, not a folder")
    if not folder and path.is_dir():
        raise InvalidInput(f"--out {raw!r} is a folder; give a file name")
    if not folder and not parent.resolve().is_dir():
        raise InvalidInput(f"--out: the folder {str(parent)!r} does not exist")
    return path


def cmd_report(args: argparse.Namespace, svc: Services) -> int:
    sub = svc.store.require(args.phone)
    if not 1 <= args.weeks <= visit_report.MAX_WEEKS:
        raise InvalidInput(f"--weeks must be between 1 and {visit_report.MAX_WEEKS}")
    out = _out_path(args.out, folder=False)
    now = datetime.now(UTC)
    facts = visit_report.facts(svc.store, svc.renderer, svc.settings.program_name, sub,
                               args.weeks, now)
    templates = svc.settings.templates_dir
    try:
        data = (printed.pdf(templates, facts, now, args.paper) if args.format == "pdf"
                else printed.html(templates, facts, now, args.paper).encode())
    except printed.PdfUnavailable as exc:
        raise ConfigError(str(exc)) from None
    write_private(out, data)
    visit_report.audit_line(svc.store, who(), f"visit_report_{args.format}", sub)
    print(f"wrote {out} ({args.format}, {facts.weeks} weeks, {len(data)} bytes)")
    return 0


def cmd_fhir_export(args: argparse.Namespace, svc: Services) -> int:
    since = consent_export.parse_since(args.since)
    person = svc.store.require(args.person) if args.person else None
    out = _out_path(args.out, folder=True)
    counts = fhir_export.write(svc.store, out, since, person, args.with_text)
    scope = f"subscriber {person.id}" if person else "everyone"
    text = "yes" if args.with_text else "no"
    audit.record(svc.store, who(), "fhir_export",
                 f"{scope} since={args.since or 'start'} with_text={text}")
    for kind in fhir_export.TYPES:
        print(f"{kind}: {counts[kind]} -> {out / (kind + '.ndjson')}")
    return 0
