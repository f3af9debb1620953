"""Human output of the command line with rich: tables on stdout, a progress bar on stderr.

Cell values are wrapped in `Text`, never passed as strings, because rich would read a name like
"[bold]" or ":smile:" as markup. When stdout is not a terminal the table is not squeezed into 80
columns (a pipe has no width), so every value stays on one line for grep and friends.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from reminders.domain import channels

PIPE_WIDTH = 1000


def stdout_console() -> Console:
    console = Console(highlight=False, emoji=False, markup=False)
    if not console.is_terminal:
        console = Console(highlight=False, emoji=False, markup=False, width=PIPE_WIDTH)
    return console


@contextmanager
def progress(total: int, description: str) -> Iterator[Callable[[], None]]:
    """A progress bar on stderr; invisible (and free) when stderr is not a terminal."""
    console = Console(stderr=True)
    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TimeRemainingColumn(), console=console, transient=True,
                   disable=not console.is_terminal, redirect_stdout=False,
                   redirect_stderr=False)
    with bar:
        task = bar.add_task(description, total=total)
        yield lambda: bar.advance(task)


def _cell(value: object) -> Text:
    return Text("-" if value is None or value == "" else str(value))


SUBSCRIBER_COLUMNS = (("phone", "phone"), ("email", "email"), ("name", "name"),
                      ("time", "time"), ("timezone", "timezone"), ("channel", "channel"),
                      ("sms", "sms_status"), ("email", "email_status"),
                      ("next send", "next_send_utc"), ("flag", "flag"))


# Phones and times are copied from here: never folded. Names, zones and instants may fold on a
# narrow terminal; the consent states keep their full width (they are short).
NO_WRAP = ("phone", "time", "channel", "sms_status", "email_status")


def _table() -> Table:
    # Compact (two spaces between columns, no frame): a night of stats fits 80 columns.
    return Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1, 0, 0),
                 header_style="bold")


def subscribers_table(rows: list[dict[str, Any]]) -> Table:
    table = _table()
    for header, key in SUBSCRIBER_COLUMNS:
        table.add_column(header, no_wrap=key in NO_WRAP, overflow="fold")
    for row in rows:
        shown = {**row, "flag": ", ".join(sorted({f["category"] for f in row.get("flags", [])}))}
        table.add_row(*(_cell(shown[key]) for _header, key in SUBSCRIBER_COLUMNS))
    return table


def states_table(subscribers: dict[str, Any]) -> Table:
    sms, email = subscribers["sms"], subscribers["email"]
    table = _table()
    table.add_column("state")
    table.add_column("sms", justify="right")
    table.add_column("email", justify="right")
    for state in dict.fromkeys([*sms, *email]):
        table.add_row(Text(state), _cell(sms.get(state, 0)), _cell(email.get(state, 0)))
    return table


NIGHT_COLUMNS = (("sent", "sent"), ("deliv.", "delivered"), ("failed", "failed"),
                 ("missed", "missed"), ("skipped", "skipped"))
REASON_COLUMNS = (("opt-out", "opted_out"), ("paused", "paused"), ("other", "other"))


def nights_table(nights: list[dict[str, Any]]) -> Table:
    """Two rows a night (sms, email); the last three columns break `skipped` down by reason."""
    table = _table()
    table.add_column("local date", no_wrap=True)
    table.add_column("ch", no_wrap=True)
    for header, _key in (*NIGHT_COLUMNS, *REASON_COLUMNS):
        table.add_column(header, justify="right", no_wrap=True)
    for night in nights:
        every = channels.names()
        for channel in every:
            numbers = night[channel]
            reasons = numbers["skipped_by_reason"]
            table.add_row(Text(night["date"] if channel == every[0] else ""), Text(channel),
                          *(_cell(numbers[key]) for _header, key in NIGHT_COLUMNS),
                          *(_cell(reasons[key]) for _header, key in REASON_COLUMNS),
                          end_section=channel == every[-1])
    return table


# `show`: a label for each key of `show --json`, in this order; keys not listed here (added later)
# follow under their own names, so nothing the JSON holds is left out of the table.
PERSON_LABELS = {
    "name": "name", "phone": "phone", "email": "email", "id": "id", "language": "language",
    "time": "evening time", "timezone": "time zone", "channel": "channel",
    "sms_status": "sms status", "email_status": "email status", "paused_until": "paused until",
    "next_send_utc": "next reminder", "last_delivery": "last delivery", "streak": "streak",
    "heat_ok": "heat ok", "massage_ok": "massage ok", "weekly": "weekly summary",
    "flags": "open foot problems", "caregiver": "caregiver",
}


def person_table(info: dict[str, Any]) -> Table:
    """`show` for a person at a desk: one labelled row per field of `show --json`."""
    table = Table(box=box.SIMPLE, show_header=False, show_edge=False, pad_edge=False,
                  padding=(0, 2, 0, 0))
    table.add_column("field", style="bold", no_wrap=True)
    table.add_column("value", overflow="fold")
    keys = [*(key for key in PERSON_LABELS if key in info),
            *(key for key in info if key not in PERSON_LABELS)]
    for key in keys:
        table.add_row(Text(PERSON_LABELS.get(key, key.replace("_", " "))),
                      Text(_person_value(key, info[key], info.get("timezone"))))
    return table


def _person_value(key: str, value: Any, zone: str | None) -> str:
    if key == "next_send_utc" and value:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        local = f" = {moment.astimezone(ZoneInfo(zone)):%H:%M} {zone}" if zone else ""
        return f"{moment:%Y-%m-%d %H:%M} UTC{local}"
    if key == "last_delivery" and value:
        error = f", error {value['error_code']}" if value.get("error_code") else ""
        return f"{value['date']} by {value['channel']}: {value['status']}{error}"
    if key == "flags":
        return "\n".join(f"{flag.get('at', '')} {flag.get('category', '')}: "
                         f"{flag.get('text', '')}".strip() for flag in value) or "none"
    if key == "caregiver" and value:
        return " ".join(str(value[part]) for part in ("phone", "name") if value.get(part)) + (
            f" ({value['status']})" if value.get("status") else "")
    return _plain(value)


def _plain(value: Any) -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        return ", ".join(f"{k.replace('_', ' ')} {_plain(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(_plain(item) for item in value) or "none"
    return str(value)


def print_json(data: object) -> None:
    """What `--json` prints: one indented document, non-ASCII kept as is."""
    print(json.dumps(data, indent=2, ensure_ascii=False))
