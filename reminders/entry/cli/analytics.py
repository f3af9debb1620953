"""`reminders analytics [--json]`: retention by program week (by language and cause),
engagement by program week (by language), why people stopped (and by which stop word), the
care team's loop figures (app/records/analytics.py, from the kept counts)."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

from rich.table import Table

from reminders.app.records import analytics
from reminders.entry.cli import tables
from reminders.wiring import Services


def register(sub: Any) -> None:
    p = sub.add_parser("analytics",
                       help="retention and engagement by program week, why people stopped")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_analytics)


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def cmd_analytics(args: argparse.Namespace, svc: Services) -> int:
    found = analytics.compute(svc.store, datetime.now(UTC))
    if args.json:
        tables.print_json(found)
        return 0
    table = Table(show_edge=False, pad_edge=False, header_style="bold",
                  title="Still subscribed, by weeks since they started")
    for header in ("week", "started", "still subscribed", "share", "by language", "by cause",
                   "pending"):
        table.add_column(header, justify="right")
    for row in found["retention"]:
        table.add_row(str(row["week"]), f"{row['started']:,}", f"{row['still_subscribed']:,}",
                      _share(row["share"]),
                      " ".join(f"{k} {_share(v['share'])}" for k, v in row["by_language"].items()),
                      " ".join(f"{k} {_share(v['share'])}" for k, v in row["by_cause"].items()),
                      f"{row['pending']:,}")
    console = tables.stdout_console()
    console.print(table)
    engaged = Table(show_edge=False, pad_edge=False, header_style="bold",
                    title="Evenings answered (DONE or a score), by week of the program")
    for header in ("week", "delivered", "answered", "share", "by language"):
        engaged.add_column(header, justify="right")
    for row in found["engagement"]:
        engaged.add_row(str(row["week"]), f"{row['delivered']:,}", f"{row['engaged']:,}",
                        _share(row["share"]), " ".join(
                            f"{k} {_share(v['share'])}" for k, v in row["by_language"].items()))
    console.print(engaged)
    stopped = found["stopped"]
    console.print(f"Stopped: replied STOP {stopped['replied_stop']:,}, unreachable "
                  f"{stopped['unreachable']:,}, unsubscribed by email "
                  f"{stopped['email_unsubscribed']:,}, email bouncing "
                  f"{stopped['email_bouncing']:,}")
    words = found["stopped_by_word"]
    console.print("Opt-outs by text, by the word used: " + (", ".join(
        f"{word.upper() if word != 'phrase' else 'a plain request'} {n:,}"
        for word, n in sorted(words.items(), key=lambda pair: -pair[1])) or "none"))
    for week in found["loop"]["weeks"]:
        console.print(f"Care-team loop, week {week['week']}: acknowledged in (median "
                      f"minutes) {_levels(week['ack_median_minutes'])}; past deadline "
                      f"{week['past_deadline']}; check-ins sent {week['checkin_sent']}, "
                      f"answered {week['checkin_answered']}; escalated "
                      f"{week['escalated_1']} + {week['escalated_2']} (second stage); "
                      f"closed: {_levels(week['outcomes'])}")
    return 0


def _levels(values: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v}" for k, v in values.items() if v) or "none"
