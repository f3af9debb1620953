"""`reminders analytics [--json]`: retention by program week (by language and cause) and why
people stopped (app/analytics.py, from the kept counts)."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

from rich.table import Table

from reminders.app import analytics
from reminders.entry.cli import tables
from reminders.wiring import Services


def register(sub: Any) -> None:
    p = sub.add_parser("analytics", help="retention by program week, why people stopped")
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
    stopped = found["stopped"]
    console.print(f"Stopped: replied STOP {stopped['replied_stop']:,}, unreachable "
                  f"{stopped['unreachable']:,}, unsubscribed by email "
                  f"{stopped['email_unsubscribed']:,}, email bouncing "
                  f"{stopped['email_bouncing']:,}")
    return 0
