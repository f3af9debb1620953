"""Bulk enrolment from CSV or .xlsx (`reminders import`, the console's import job): what each
column means, and each row through `preferences.enrol`.

The file is read twice, streamed (csv_reader.py, which finds its encoding on the way): first
whole, so a file that is not CSV at all (binary, wrong encoding, broken quoting) or has a wrong
header changes nothing; then row by row. Each row stands alone: a bad row is reported with its
line (a workbook's row) number, the name it gives and why, and skipped; a good one is enrolled
(validated, then one transaction); a row whose phone or email already belongs to someone is
left alone and counted as unchanged, so running the same file again changes nothing.

A new column: add it to COLUMNS and read it in `_enrolment` (the only places that know them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace

from reminders.app.imports import csv_reader
from reminders.app.people import preferences
from reminders.app.people.preferences import Enrolment
from reminders.domain.validation import (
    InvalidInput,
    normalise_email,
    normalise_phone,
    parse_bool,
    parse_consented_at,
)
from reminders.settings import Settings
from reminders.storage.subscribers import AlreadySubscribed, Store

COLUMNS = ("phone", "email", "name", "timezone", "time", "channel", "confirmed", "language",
           "cause", "consented_at")
# A reason quotes the bad value; a 10 kB cell must not turn into a 10 kB report line.
MAX_REASON = 160
MAX_NAME = 60  # a refused row is named by its name column, so the coordinator knows whom



@dataclass(frozen=True)
class Row:
    line: int  # where the row starts in the file (1 = the header line)
    values: dict[str, str]  # every column in COLUMNS, "" when absent
    extra: int = 0  # non-empty cells beyond the header's columns


@dataclass
class Report:
    imported: int = 0
    unchanged: int = 0
    pending: int = 0  # imported without confirmed=yes: they wait for a YES
    pending_ids: list[str] = field(default_factory=list)  # who, among those just enrolled
    # (line or row, the person's name as given, why): kept when nobody takes them
    errors: list[tuple[int, str, str]] = field(default_factory=list)
    failed: int = 0
    keep_pending: bool = True  # False: pending_ids stays empty (nobody will be asked here)

    def summary(self) -> str:
        return f"imported {self.imported}, unchanged {self.unchanged}, failed {self.failed}"


# -- reading ----------------------------------------------------------------------------------
def rows(source: csv_reader.Source, path: str) -> Iterator[Row]:
    """Every data row, streamed; InvalidInput when the file as a whole is unusable (raised
    where it is found: call count_rows first to know before writing anything)."""
    header: list[str] | None = None
    for line, cells in csv_reader.records(source, path):
        if header is None:
            header = _header(cells)
        else:
            yield _row(line, header, cells)
    if header is None:
        raise InvalidInput(f"{path} is empty: expected a header line like {','.join(COLUMNS)}")


def unit(source: csv_reader.Source, path: str) -> str:
    """What a refused row's number counts: a CSV's "line", a workbook's "row"."""
    return "row" if csv_reader.is_workbook(source, path) else "line"


def count_rows(source: csv_reader.Source, path: str) -> int:
    """Read the whole file once, keeping nothing: its number of data rows, or InvalidInput."""
    return sum(1 for _ in rows(source, path))


def _header(cells: list[str]) -> list[str]:
    names = [cell.strip().lower() for cell in cells]
    while names and not names[-1]:
        names.pop()  # trailing empty cells: a spreadsheet artefact
    for name in names:
        if name not in COLUMNS:
            raise InvalidInput(f"unknown column {name!r} in the header line "
                               f"(columns: {','.join(COLUMNS)})")
        if names.count(name) > 1:
            raise InvalidInput(f"column {name!r} appears twice in the header line")
    if "phone" not in names and "email" not in names:
        raise InvalidInput("the header line needs a phone or an email column "
                           f"(columns: {','.join(COLUMNS)})")
    return names


def _row(line: int, header: list[str], cells: list[str]) -> Row:
    values = dict.fromkeys(COLUMNS, "")
    values.update((name, cell.strip()) for name, cell in zip(header, cells, strict=False))
    extra = sum(1 for cell in cells[len(header):] if cell.strip())
    return Row(line, values, extra)


# -- enrolling --------------------------------------------------------------------------------
def import_rows(store: Store, settings: Settings, rows: Iterable[Row],
                on_row: Callable[[], None] | None = None, words: str = "",
                on_error: Callable[[int, str, str], None] | None = None,
                report: Report | None = None) -> Report:
    """Enrol each row; `words` go in each new person's consent entry (who imported them).
    A refused row goes to `on_error` (line, name, reason) when given, else into the report."""
    report = Report() if report is None else report  # a caller's: it watches the counts
    # normalised phone or address -> the line that took it: one small entry per row (an int
    # and a short string), the only thing that grows with the file.
    claimed: dict[str, int] = {}
    for row in rows:
        try:
            outcome, subscriber_id = _import_row(store, settings, row, claimed, words)
        except InvalidInput as exc:
            report.failed += 1
            refused = (row.line, _shorten(row.values["name"], MAX_NAME), _shorten(str(exc)))
            if on_error is None:
                report.errors.append(refused)
            else:
                on_error(*refused)
        else:
            _count(report, outcome)
            if outcome == "pending" and subscriber_id and report.keep_pending:
                report.pending_ids.append(subscriber_id)
        if on_row is not None:
            on_row()
    return report


def _count(report: Report, outcome: str) -> None:
    if outcome == "unchanged":
        report.unchanged += 1
        return
    report.imported += 1
    if outcome == "pending":
        report.pending += 1


def _import_row(store: Store, settings: Settings, row: Row, claimed: dict[str, int],
                words: str) -> tuple[str, str | None]:
    """('imported' | 'pending' | 'unchanged', the new subscriber's id); InvalidInput says why a
    row is refused."""
    if row.extra:
        raise InvalidInput(f"{row.extra} cell(s) more than the header line has columns")
    request = replace(_enrolment(row.values), words=words)
    handles = _handles(request)
    for handle in handles:
        if handle in claimed:
            raise InvalidInput(f"{handle} is already on line {claimed[handle]}")
    _check_email_not_suppressed(store, request)
    outcome = _enrol(store, settings, request)
    claimed.update(dict.fromkeys(handles, row.line))
    return outcome


def _enrol(store: Store, settings: Settings, request: Enrolment) -> tuple[str, str | None]:
    try:
        sub = preferences.enrol(store, settings, request)
    except AlreadySubscribed:
        return "unchanged", None  # the existing subscriber is left exactly as it is
    return ("imported" if request.confirmed else "pending"), sub.id


def _enrolment(values: dict[str, str]) -> Enrolment:
    return Enrolment(
        phone=values["phone"] or None, email=values["email"] or None, name=values["name"],
        timezone=values["timezone"] or None, time=values["time"] or None,
        channel=values["channel"] or None, confirmed=_confirmed(values["confirmed"]),
        source="import", language=values["language"] or None, cause=values["cause"] or None,
        consented_at=parse_consented_at(values["consented_at"]) if values["consented_at"]
        else None,
    )


def _confirmed(raw: str) -> bool:
    if not raw:
        return False
    try:
        return parse_bool(raw)
    except InvalidInput:
        raise InvalidInput(f"confirmed is not true or false: {raw!r}") from None


def _handles(request: Enrolment) -> list[str]:
    """The phone and address this row would take, as the indexes compare them (invalid values:
    enrol reports them)."""
    found = []
    try:
        if request.phone:
            found.append(normalise_phone(request.phone))
        if request.email:
            found.append(normalise_email(request.email).lower())
    except InvalidInput:
        return []
    return found


def _check_email_not_suppressed(store: Store, request: Enrolment) -> None:
    # enrol() honours suppressed phones only; an address that unsubscribed and was forgotten
    # must not be enrolled again by a bulk import either.
    if not request.email:
        return
    try:
        address = normalise_email(request.email)
    except InvalidInput:
        return  # enrol reports it
    if store.is_suppressed_email(address) and store.find(address) is None:
        raise InvalidInput(f"{address} unsubscribed from our emails; import cannot add it again")


def _shorten(reason: str, limit: int = MAX_REASON) -> str:
    reason = " ".join(reason.split())
    return reason if len(reason) <= limit else reason[:limit - 1] + "…"
