"""Reading an import's bytes as CSV records, streamed: the chunks of a file, of stdin (spooled)
or of an upload kept in Redis go through an incremental UTF-8 decoder and csv.reader, one line
at a time, so memory holds one chunk and one record whatever the file's size. Besides UTF-8,
what spreadsheets save a CSV as is read too: UTF-16 with its BOM ("Unicode text") and
Windows-1252 (Excel's "CSV" on Windows), told apart by charset-normalizer among those only.

What the columns mean is importer.py's (the one place a column is added); this module only
says whether the bytes are a CSV file, and where each record starts. An Excel workbook is
xlsx_reader.py's to read; it is told apart here, by its first bytes.
"""

from __future__ import annotations

import codecs
import csv
import itertools
import re
from collections.abc import Callable, Iterable, Iterator

import charset_normalizer

from reminders.app.imports import xlsx_reader
from reminders.domain.validation import InvalidInput

CHUNK = 64 * 1024
# What spreadsheets save a CSV as besides UTF-8 (charset-normalizer chooses among these only).
SPREADSHEET_ENCODINGS = ["utf_16", "cp1252"]
# Opens the bytes again from the start: the file is read twice (checked whole, then imported).
Source = Callable[[], Iterable[bytes]]
# One line and its end; the last line of a file may have none.
_LINE = re.compile(r"[^\r\n]*+(?:\r\n|\r|\n)|[^\r\n]+$")


def records(source: Source, path: str) -> Iterator[tuple[int, list[str]]]:
    """(the line where the record starts, its cells) for each non-blank record; InvalidInput
    (naming `path`) when the bytes are not a UTF-8 CSV file, raised where it is found. An
    Excel workbook (.xlsx, told by its first bytes or its name) is read by xlsx_reader.py:
    (its row number, its cells as the CSV would hold them)."""
    if is_workbook(source, path):
        yield from xlsx_reader.records(source(), path)
        return
    # strict: an unclosed quote is an error, not a cell that swallows the rest of the file
    reader = csv.reader(_lines(source, path), strict=True)
    previous_end = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            # (a cell over csv's field_size_limit, 128 kB, is one of these: memory stays bounded)
            raise InvalidInput(f"{path}: not a readable CSV file (line {reader.line_num}: "
                               f"{exc})") from None
        start, previous_end = previous_end + 1, reader.line_num
        if any(cell.strip() for cell in cells):
            yield start, cells


def is_workbook(source: Source, path: str) -> bool:
    """An .xlsx (zip) or OLE2 file, by its first bytes; a name ending in .xlsx too."""
    chunks = iter(source())
    first = next(chunks, b"")
    close = getattr(chunks, "close", None)
    if close is not None:
        close()  # (a file's generator: its file is closed now, not when collected)
    return xlsx_reader.is_workbook(first, path)


class _Decoder:
    """The file's bytes as text, its encoding found while it is read (one pass): a UTF-16 file
    by its BOM; else UTF-8 (with or without a BOM) until a byte does not decode. If every byte
    before that one was ASCII (the same text in either encoding), charset-normalizer picks the
    encoding among SPREADSHEET_ENCODINGS from that chunk, and reading goes on in it; UTF-8
    accents before the bad byte make it a UTF-8 file with a broken byte (read as Windows-1252,
    every "é" would turn into "Ã©" silently), refused at that byte."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.encoding = "utf-8-sig"  # a spreadsheet's BOM dropped
        self._decoder = codecs.getincrementaldecoder(self.encoding)()
        self._offset = 0
        self._ascii = True  # every byte so far, so a switch of encoding changes no text read
        self._controls = False  # a control character so far: not text, if not UTF-8

    def decode(self, chunk: bytes, final: bool) -> str:
        if self._offset == 0 and chunk.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            self._switch("utf-16")
        try:
            text = self._decoder.decode(chunk, final)
        except UnicodeDecodeError as exc:
            text = self._fall_back(chunk, final, exc)
        if "\x00" in text:
            raise InvalidInput(f"{self.path} is not a CSV file (it contains NUL bytes)")
        self._controls = self._controls or any(ord(c) < 32 and c not in "\t\r\n" for c in text)
        if self._controls and self.encoding != "utf-8-sig":
            # a binary file read as Windows-1252 is all control characters: not a CSV file
            raise InvalidInput(f"{self.path} is not a CSV file (control characters)")
        if self._offset == 0:
            text = text.lstrip("\ufeff")
        self._ascii = self._ascii and chunk.isascii()
        self._offset += len(chunk)
        return text

    def _switch(self, encoding: str) -> None:
        self.encoding = encoding
        self._decoder = codecs.getincrementaldecoder(encoding)()

    def _fall_back(self, chunk: bytes, final: bool, exc: UnicodeDecodeError) -> str:
        guess = None
        if self.encoding == "utf-8-sig" and self._ascii and chunk[:exc.start].isascii():
            guess = charset_normalizer.from_bytes(chunk, cp_isolation=SPREADSHEET_ENCODINGS).best()
        if guess is None:
            what = (f"{self.encoding} CSV file (" if self.encoding != "utf-8-sig" else
                    "UTF-8 CSV file (nor UTF-16 or Windows-1252 text; ")
            raise InvalidInput(f"{self.path} is not a {what}undecodable byte at offset "
                               f"{self._offset + exc.start})") from None
        self._switch(guess.encoding)
        try:
            return self._decoder.decode(chunk, final)
        except UnicodeDecodeError as again:
            raise InvalidInput(f"{self.path} is not a {self.encoding} CSV file (undecodable "
                               f"byte at offset {self._offset + again.start})") from None


def _lines(source: Source, path: str) -> Iterator[str]:
    """The text's lines, each with its end (\r\n, \r or \n, as csv expects them)."""
    decoder = _Decoder(path)
    pending = ""
    for chunk in itertools.chain(source(), [b""]):  # b"": the end, to flush
        text = decoder.decode(chunk, final=not chunk)
        pending += text
        # Up to the last line end; a \r at the very end may be half of a \r\n.
        end = len(pending) - 1 if chunk and pending.endswith("\r") else len(pending)
        cut = len(pending) if not chunk else max(pending.rfind("\n", 0, end),
                                                 pending.rfind("\r", 0, end)) + 1
        yield from _LINE.findall(pending[:cut])
        pending = pending[cut:]


def file_source(path: str) -> Source:
    """A file on disk, read in chunks; InvalidInput when it cannot be opened."""
    try:
        with open(path, "rb"):
            pass
    except FileNotFoundError:
        raise InvalidInput(f"no such file: {path}") from None
    except IsADirectoryError:
        raise InvalidInput(f"{path} is a directory, not a CSV file") from None
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror or exc}") from None

    def chunks() -> Iterator[bytes]:
        with open(path, "rb") as file:
            while chunk := file.read(CHUNK):
                yield chunk

    return chunks


def stdin_source() -> Source:
    """Standard input, spooled (to disk past 1 MB) so that it can be read twice."""
    import sys
    import tempfile

    spool = tempfile.SpooledTemporaryFile(max_size=1024 * 1024)  # noqa: SIM115 (kept open)
    while chunk := sys.stdin.buffer.read(CHUNK):
        spool.write(chunk)

    def chunks() -> Iterator[bytes]:
        spool.seek(0)
        while chunk := spool.read(CHUNK):
            yield chunk

    return chunks
