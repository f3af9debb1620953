"""`reminders capacity [--date YYYY-MM-DD] [--json]`: the load per minute and whether anyone
would be sent past the late limit at TWILIO_MPS (the arithmetic: app/evenings/capacity.py).

Exit status 0 whatever the verdict (it is a report, not a check; `at_risk` says it), 2 for a
bad date.
"""

from __future__ import annotations

import argparse
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from rich.table import Table
from rich.text import Text

from reminders.app.evenings import capacity
from reminders.domain.validation import InvalidInput
from reminders.entry.cli import tables
from reminders.wiring import Services


def register(sub: Any) -> None:
    p = sub.add_parser("capacity", help="people and segments per minute; who would be late")
    p.add_argument("--date", help="the evening of this date (YYYY-MM-DD) instead of the "
                                  "next 24 hours")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_capacity)


def _day(raw: str | None) -> date | None:
    if raw is None:
        return None
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise InvalidInput(f"--date {raw!r} is not a date (YYYY-MM-DD)") from None


def _z(instant: datetime) -> str:
    return instant.strftime("%Y-%m-%dT%H:%M:%SZ")


def as_json(result: capacity.Forecast, limits: capacity.Limits) -> dict[str, Any]:
    return {
        "at_risk": result.at_risk,
        "mps": result.mps,
        "late_limit_minutes": result.late_limit_minutes,
        "segments_per_person": limits.segments_per_person,
        "segments_are": "upper bound (SMS_MAX_SEGMENTS per person)",
        "people": result.people,
        "segments": result.segments,
        "carriers": [{"carrier": c.carrier, "share": c.share, "segments": c.segments,
                      "daily_cap": c.daily_cap, "mps": c.mps,
                      "worst_delay_seconds": round(c.worst_delay_seconds, 1),
                      "over_cap": c.over_cap, "late": c.late, "at_risk": c.at_risk}
                     for c in result.carriers],
        "minutes": [{"minute_utc": _z(m.minute_utc), "people": m.people,
                     "segments": m.segments, "last_out_utc": _z(m.last_out_utc),
                     "delay_seconds": round(m.delay_seconds, 1), "at_risk": m.at_risk}
                    for m in result.minutes],
        "calls": None if result.calls is None else {
            "cps": result.calls.mps, "people": result.calls.people,
            "at_risk": result.calls.at_risk,
            "worst_delay_seconds": round(result.calls.worst.delay_seconds, 1)
            if result.calls.worst else 0.0},
    }


def cmd_capacity(args: argparse.Namespace, svc: Services) -> int:
    day = _day(args.date)
    limits = capacity.Limits.of(svc.settings)
    result = capacity.forecast(svc.store, limits, day)
    if args.json:
        tables.print_json(as_json(result, limits))
        return 0
    zone = ZoneInfo(limits.zone)
    table = Table(show_edge=False, pad_edge=False, header_style="bold")
    for header in ("minute (UTC)", f"local ({limits.zone})", "people", "segments",
                   "last out (UTC)", "delay", "at risk"):
        table.add_column(header, justify="right", no_wrap=True)
    for m in result.minutes:
        table.add_row(Text(f"{m.minute_utc:%Y-%m-%d %H:%M}"),
                      Text(f"{m.minute_utc.astimezone(zone):%H:%M}"), Text(f"{m.people:,}"),
                      Text(f"{m.segments:,}"), Text(f"{m.last_out_utc:%H:%M:%S}"),
                      Text(f"{m.delay_seconds / 60:.1f} min"),
                      Text("YES" if m.at_risk else "", style="bold red"))
    console = tables.stdout_console()
    console.print(table)
    worst = result.worst
    print(f"{result.people:,} people, {result.segments:,} segments (at most "
          f"{limits.segments_per_person} per person) at TWILIO_MPS={limits.mps:g}; "
          f"late limit {limits.late_limit_minutes} min")
    for c in result.carriers:
        print(carrier_line(c))
    if worst is None:
        print("nobody due in this window")
    elif any(m.at_risk for m in result.minutes):
        print(f"AT RISK: the last text due at {worst.minute_utc:%H:%M} UTC would go out "
              f"{worst.delay_seconds / 60:.0f} min late: raise TWILIO_MPS, add senders or "
              "spread send times (docs/operations.md, 'Capacity')")
    elif not result.at_risk:
        print(f"ok: the latest text goes out {worst.delay_seconds / 60:.1f} min after its time")
    return 0


def carrier_line(c: capacity.CarrierLoad) -> str:
    """One carrier's share against its 10DLC limits (AT RISK: over its cap, or too late)."""
    cap = f"daily cap {c.daily_cap:,.0f}" if c.daily_cap is not None else "no daily cap set"
    rate = f"{c.mps:g}/s" if c.mps is not None else "TWILIO_MPS"
    verdict = ("AT RISK: over its daily cap" if c.over_cap else
               "AT RISK: past the late limit at its rate" if c.late else "ok")
    return (f"{c.carrier}: {c.share:.0%} of the numbers, {c.segments:,} segments ({cap}; at "
            f"{rate}, the last {c.worst_delay_seconds / 60:.1f} min late): {verdict}")
