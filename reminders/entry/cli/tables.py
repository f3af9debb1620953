"""Human output of the command line with rich: tables on stdout, a progress bar on stderr.

Cell values are wrapped in `Text`, never passed as strings, because rich would read a name like
"[bold]" or ":smile:" as markup. When stdout is not a terminal the table is not squeezed into 80
columns (a pipe has no width), so every value stays on one line for grep and friends.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

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
        for channel in ("sms", "email"):
            numbers = night[channel]
            reasons = numbers["skipped_by_reason"]
            table.add_row(Text(night["date"] if channel == "sms" else ""), Text(channel),
                          *(_cell(numbers[key]) for _header, key in NIGHT_COLUMNS),
                          *(_cell(reasons[key]) for _header, key in REASON_COLUMNS),
                          end_section=channel == "email")
    return table


def print_json(data: object) -> None:
    """What `--json` prints: one indented document, non-ASCII kept as is."""
    print(json.dumps(data, indent=2, ensure_ascii=False))
