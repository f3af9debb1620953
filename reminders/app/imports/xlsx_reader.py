"""Reading an import's bytes as an Excel workbook (.xlsx): the first sheet's rows as the same
text cells a CSV of it would hold, so importer.py maps both the same way.

A workbook is a zip archive, read from its end: the bytes are spooled (to disk past 1 MB) and
openpyxl opens them in read-only mode, which streams the sheet's XML a row at a time, so memory
holds one row whatever the sheet's size. Excel stores what it recognises as numbers and times
as such: a phone typed as 13125550160 is the float 13125550160.0, an evening time is a
datetime.time, a date a datetime at midnight. Each is written back as a person would type it
(13125550160, 20:30, 2024-03-05), which is what the CSV path reads.

Files that are not a workbook are told apart by their first bytes and refused with what to do:
an encrypted workbook (and an old .xls) is an OLE2 file, not a zip; anything else that is not a
zip, or a zip that is not a workbook, is not an .xlsx file.
"""

from __future__ import annotations

import tempfile
import warnings
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from datetime import date, datetime, time, timedelta
from typing import IO, Any
from xml.etree.ElementTree import ParseError

from reminders.domain.validation import InvalidInput

ZIP_MAGIC = b"PK\x03\x04"
# Compound File Binary: Excel's password-protected .xlsx, and the old binary .xls.
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
SPOOL_IN_MEMORY = 1024 * 1024
MAX_CELL = 128 * 1024  # as csv's field_size_limit on the CSV path
# What a damaged workbook raises from openpyxl, by the part that is damaged: the zip (BadZipFile,
# zlib.error, EOFError; NotImplementedError for a compression zipfile has not), a missing part
# (KeyError), a part's XML (ParseError), a value in it (ValueError, TypeError).
BROKEN: tuple[type[Exception], ...] = (zipfile.BadZipFile, zlib.error, EOFError,
                                       NotImplementedError, KeyError, ParseError, OSError,
                                       ValueError, TypeError)
# openpyxl warns (on stderr) about what it works around, a missing stylesheet and the like: the
# import either reads the rows or says in one line why not.
warnings.filterwarnings("ignore", category=UserWarning, module=r"openpyxl(\.|$)")


def is_workbook(first: bytes, path: str) -> bool:
    """True when these first bytes (or, for bytes that say nothing, the name) are a workbook's:
    the caller then reads it here, not as CSV."""
    if first.startswith((ZIP_MAGIC, OLE2_MAGIC)):
        return True
    return path.lower().endswith((".xlsx", ".xlsm"))


def records(chunks: Iterable[bytes], path: str) -> Iterator[tuple[int, list[str]]]:
    """(the sheet's row number, its cells as text) for each non-blank row of the first sheet;
    InvalidInput naming `path` when the bytes are not a readable .xlsx workbook."""
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY) as spool:
        for chunk in chunks:
            spool.write(chunk)
        spool.seek(0)
        workbook = _open(spool, path)
        try:
            sheet = workbook.worksheets[0] if workbook.worksheets else None
            if sheet is None:
                raise InvalidInput(f"{path} has no worksheet")
            for number, values in enumerate(_rows(sheet, path), start=1):
                # (as wide as the row: a short one is a CSV's short line, its missing cells
                # empty; empty cells past the header's columns are ignored by the importer)
                cells = [_text(value, path, number) for value in values]
                if any(cell.strip() for cell in cells):
                    yield number, cells
        finally:
            workbook.close()


def _open(spool: IO[bytes], path: str) -> Any:
    import openpyxl  # only an import of a workbook needs it
    from openpyxl.utils.exceptions import InvalidFileException

    first = spool.read(8)
    spool.seek(0)
    if not first:
        raise InvalidInput(f"{path} is empty: expected a header row like phone,name,...")
    if first.startswith(OLE2_MAGIC):
        raise InvalidInput(f"{path} is password-protected or an old .xls workbook: save it "
                           "in Excel as .xlsx without a password, or as CSV")
    if not first.startswith(ZIP_MAGIC):
        raise InvalidInput(f"{path} is not an .xlsx workbook (not a zip archive): save it in "
                           "Excel as .xlsx or CSV")
    try:
        return openpyxl.load_workbook(spool, read_only=True, data_only=True)
    except (*BROKEN, InvalidFileException) as exc:
        raise InvalidInput(f"{path} is not a readable .xlsx workbook ({_why(exc)}): save it "
                           "in Excel as .xlsx or CSV") from None


def _rows(sheet: Any, path: str) -> Iterator[tuple[Any, ...]]:
    """The sheet's rows from row 1 (openpyxl gives empty rows in gaps too, so the count is
    the sheet's row number); a workbook broken past its start is an InvalidInput too."""
    # The sheet's stated dimensions are not trusted: a writer that states A1:A1 (some do)
    # would otherwise cut every row to one cell. Rows then come as wide as each is.
    sheet.reset_dimensions()
    rows = sheet.iter_rows(values_only=True)
    while True:
        try:
            row = next(rows)
        except StopIteration:
            return
        except BROKEN as exc:
            raise InvalidInput(f"{path} is not a readable .xlsx workbook ({_why(exc)})") from None
        yield row


def _why(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:120] or type(exc).__name__


def _text(value: Any, path: str, row: int) -> str:
    """A cell as the text a CSV of the sheet would hold."""
    if value is None:
        return ""
    if isinstance(value, bool):  # (before int: a bool is one)
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # 13125550160.0 -> 13125550160
    if isinstance(value, datetime):
        if value.time() == time(0):
            return value.date().isoformat()
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M" if not value.second else "%H:%M:%S")
    if isinstance(value, timedelta):  # a time in a [h]:mm cell
        minutes = int(value.total_seconds()) // 60
        return f"{minutes // 60:02d}:{minutes % 60:02d}"
    text = str(value)
    if len(text) > MAX_CELL:
        raise InvalidInput(f"{path}: row {row} has a cell over {MAX_CELL // 1024} kB")
    return text
