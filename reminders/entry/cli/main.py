"""`reminders ...`: the operator's command line (the contract: docs/commands.md).

Exit status: 0 success, 2 bad input (one clear line on stderr), 1 when a needed service is down.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from reminders.app.imports import csv_reader, importer
from reminders.app.people import preferences
from reminders.app.people.preferences import Enrolment
from reminders.app.records.person_json import describe, describe_all
from reminders.domain.content import LibraryError
from reminders.domain.subscriber import Subscriber
from reminders.domain.validation import InvalidInput
from reminders.entry.cli import analytics as cli_analytics
from reminders.entry.cli import capacity as cli_capacity
from reminders.entry.cli import compliance, loop, person, records, statistics, tables
from reminders.entry.cli import flags as cli_flags
from reminders.entry.cli import inbox as cli_inbox
from reminders.entry.cli import operators as cli_operators
from reminders.logs import install
from reminders.settings import ConfigError, load_settings
from reminders.settings_files import redis_url_origin
from reminders.storage.client import ConnectionError, RedisUnavailable, TimeoutError
from reminders.storage.subscribers import Contended
from reminders.wiring import Services, build

Handler = Callable[[argparse.Namespace, Services], int]


class UsageError(InvalidInput):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        # argparse prints usage and exits 2; we keep 2 but print one clear line.
        raise UsageError(message)


_out = tables.print_json
LANGUAGES_HELP = """languages: en (default) and es, per person (subscribe --language es, set PHONE
language=es, the import column `language`, or the texts ESPAÑOL / ENGLISH).
To add a language, e.g. fr: put a translation beside every English file of templates/sms,
templates/email and templates/content (library.toml -> library.fr.toml, replies.txt.j2 ->
replies.fr.txt.j2; same ids, tags and macros), and add "fr" to LANGUAGES in
reminders/domain/subscriber.py; tests/messages/test_translations.py lists whatever is missing.
docs/languages.md says more."""


def cmd_subscribe(args: argparse.Namespace, svc: Services) -> int:
    if args.phone and "@" in args.phone and not args.email:
        args.email, args.phone = args.phone, None
    sub = preferences.enrol(svc.store, svc.settings, Enrolment(
        phone=args.phone, email=args.email, name=args.name or "", timezone=args.timezone,
        time=args.time, channel=args.channel, confirmed=args.confirmed, language=args.language,
        cause=args.cause,
    ))
    print(f"subscribed {sub.handle()} at {sub.send_time:%H:%M} {sub.timezone} "
          f"({'confirmed' if args.confirmed else 'awaiting confirmation'})")
    if not args.confirmed:
        _ask(svc, sub)
    return 0


def _ask(svc: Services, sub: Subscriber) -> bool:
    """Send the double opt-in requests; a problem is one warning line."""
    texted, mailed = svc.confirmations.text(sub), svc.confirmations.mail(sub)
    for asked in (texted, mailed):
        if asked.problem:
            print(f"warning: {asked.problem}")
    return bool(texted or mailed)


def cmd_show(args: argparse.Namespace, svc: Services) -> int:
    info = describe(svc.store, svc.store.require(args.phone))
    if args.json:
        _out(info)
    else:
        tables.stdout_console().print(tables.person_table(info))
    return 0


def cmd_list(args: argparse.Namespace, svc: Services) -> int:
    rows = sorted(describe_all(svc.store, svc.store.all()),
                  key=lambda r: (r["phone"] or r["email"] or ""))
    if args.json:
        _out(rows)
        return 0
    tables.stdout_console().print(tables.subscribers_table(rows))
    print(f"{len(rows)} subscriber(s)")
    return 0


def cmd_import(args: argparse.Namespace, svc: Services) -> int:
    # In this process (not a worker's job, as the console's is), streamed: the whole file is
    # read once first, so a broken one changes nothing, then again row by row.
    source = (csv_reader.stdin_source() if args.file == "-"
              else csv_reader.file_source(args.file))
    total = importer.count_rows(source, args.file)
    with tables.progress(total, "importing") as advance:
        report = importer.import_rows(svc.store, svc.settings, importer.rows(source, args.file),
                                      on_row=advance)
    unit = importer.unit(source, args.file)
    for line, name, reason in report.errors:
        print(f"{unit} {line}" + (f" ({name})" if name else "") + f": {reason}")
    print(report.summary())
    if report.pending_ids and args.send_confirmations:
        _confirm_imported(svc, report.pending_ids)
    elif report.pending:
        print(f"note: {report.pending} imported subscriber(s) without confirmed=yes are pending: "
              "they start only after replying YES; --send-confirmations asks them")
    return 0


def _confirm_imported(svc: Services, subscriber_ids: list[str]) -> None:
    """Ask the people this import just enrolled (and only them: a re-run asks nobody again)."""
    asked = 0
    with tables.progress(len(subscriber_ids), "confirming") as advance:
        for subscriber_id in subscriber_ids:
            sub = svc.store.get(subscriber_id)
            if sub is not None:
                asked += _ask(svc, sub)
            advance()
    print(f"asked {asked} of {len(subscriber_ids)} pending subscriber(s) to confirm")


def cmd_web(args: argparse.Namespace, svc: Services) -> int:
    from reminders.entry.cli.runner import port_is_free
    from reminders.entry.web.app import create_app

    port_is_free(args.host, args.port)  # else werkzeug prints five lines and exits 1
    create_app(svc).run(host=args.host, port=args.port, debug=False, threaded=True)
    return 0


def cmd_run(args: argparse.Namespace, svc: Services) -> int:
    from reminders.entry.cli.runner import run_all

    if not 0 <= args.demo_lead <= 3600:
        raise InvalidInput("--demo-lead must be between 0 and 3600 seconds")
    return run_all(svc, demo=not args.no_demo, port=args.port, verbose=args.verbose,
                   demo_lead_seconds=args.demo_lead)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="reminders", description="Nightly foot-care reminders",
                     epilog=LANGUAGES_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("subscribe", help="enrol a person")
    p.add_argument("phone", nargs="?")
    p.add_argument("--email")
    p.add_argument("--name")
    p.add_argument("--timezone")
    p.add_argument("--time")
    p.add_argument("--channel")
    p.add_argument("--language", help="en (default) or es: the language of every text and email")
    p.add_argument("--cause", help="diabetes, cancer_treatment or other (default: not known): "
                   "cancer_treatment gets the treatment-line items and no massage unless chosen")
    p.add_argument("--confirmed", action="store_true", help="consent already given (no YES asked)")
    p.set_defaults(handler=cmd_subscribe)

    p = sub.add_parser("show", help="one subscriber")
    p.add_argument("phone")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_show)

    p = sub.add_parser("list", help="all subscribers")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_list)

    p = sub.add_parser("import", help="bulk enrol from a CSV or .xlsx file (phone,email,...)")
    p.add_argument("file", help="CSV file (or .xlsx workbook) with a header line; - reads "
                   "standard input")
    p.add_argument("--send-confirmations", action="store_true",
                   help="text/email the confirmation request to rows enrolled as pending")
    p.set_defaults(handler=cmd_import)

    statistics.register(sub)

    p = sub.add_parser("set", help="change preferences: KEY=VALUE ...")
    p.add_argument("phone")
    p.add_argument("assignments", nargs="*")
    p.set_defaults(handler=person.cmd_set)

    p = sub.add_parser("preview", help="exactly what would be sent that evening")
    p.add_argument("phone")
    p.add_argument("--date")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=person.cmd_preview)

    p = sub.add_parser("schedule", help="the next send instants")
    p.add_argument("phone")
    p.add_argument("--from", dest="start")
    p.add_argument("--days", type=int, default=7)
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=person.cmd_schedule)

    p = sub.add_parser("send-now", help="send tonight's reminder now (once per local date)")
    p.add_argument("phone")
    p.set_defaults(handler=person.cmd_send_now)

    p = sub.add_parser("reply", help="feed TEXT through the inbound-SMS handler")
    p.add_argument("phone")
    p.add_argument("text", nargs="+")
    p.add_argument("--at", help="as if texted at this instant (ISO 8601; default now)")
    p.add_argument("--json", action="store_true",
                   help='{"reply", "command", "triage": {"level", "category"}, "flag"}')
    p.set_defaults(handler=person.cmd_reply)

    p = sub.add_parser("forget", help="erase a subscriber, keeping only their opt-out")
    p.add_argument("phone")
    p.set_defaults(handler=person.cmd_forget)

    p = sub.add_parser("web", help="the web app")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.set_defaults(handler=cmd_web)

    cli_flags.register(sub)
    cli_inbox.register(sub)
    cli_operators.register(sub)
    cli_capacity.register(sub)
    cli_analytics.register(sub)
    loop.register(sub)
    records.register(sub)
    compliance.register(sub)

    p = sub.add_parser("run", help="web + worker + beat together")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--no-demo", action="store_true", help="do not enrol the demo subscriber")
    p.add_argument("--demo-lead", type=int, default=45, metavar="SECONDS",
                   help="the demo reminder is due on the first whole minute at least this many "
                        "seconds after start (default 45: time for everything to start)")
    p.add_argument("--verbose", action="store_true",
                   help="show every line of web, worker and beat (Celery's banners, INFO logs)")
    p.set_defaults(handler=cmd_run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
        # Operators read command output on stdout; only problems are logged (to stderr).
        install("INFO" if args.command in ("web", "run") else "WARNING")
        svc = build(load_settings())
        svc.check_storage()  # every command reads or writes Redis: refuse an evicting one
        handler: Handler = args.handler
        return handler(args, svc)
    except (InvalidInput, ConfigError, LibraryError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Contended as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except (RedisUnavailable, ConnectionError, TimeoutError) as exc:
        print(f"error: Redis is not reachable ({exc}); is {redis_url_origin()} right?",
              file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
