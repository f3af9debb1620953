"""Streamed reading of an import: whatever the chunks a file arrives in (an upload read back
from Redis in ranges, a file in 64 kB reads), its records are those csv reads from the whole
text at once, and an undecodable byte is reported at its offset in the file."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reminders.app.imports import csv_reader
from reminders.domain.validation import InvalidInput

CELLS = st.text(alphabet=st.sampled_from(list('ab ,"\r\néñ😀\x0b\u2028')), max_size=12)


def chunked(data: bytes, size: int) -> csv_reader.Source:
    def chunks() -> Iterator[bytes]:
        return (data[i:i + size] for i in range(0, len(data), size))
    return chunks


def whole(text: str) -> list[list[str]]:
    return [row for row in csv.reader(io.StringIO(text, newline=""))
            if any(cell.strip() for cell in row)]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(CELLS, min_size=1, max_size=4), max_size=6),
       st.sampled_from(["\n", "\r\n", "\r"]), st.booleans(), st.integers(1, 9))
def test_any_chunking_reads_what_csv_reads_from_the_whole_text(
        rows: list[list[str]], end: str, bom: bool, size: int) -> None:
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator=end).writerows(rows)
    text = out.getvalue()
    data = ("\ufeff" if bom else "").encode() + text.encode()
    got = [cells for _, cells in csv_reader.records(chunked(data, size), "f.csv")]
    assert got == whole(text)


@pytest.mark.parametrize("size", [1, 2, 7, 64])
def test_an_undecodable_byte_is_reported_at_its_offset(size: int) -> None:
    data = b"phone,name\n+13125550142,Jos\xc3\xa9\n+13125550143,Bo\xff\n"
    with pytest.raises(InvalidInput, match=r"undecodable byte at offset 45\)"):
        list(csv_reader.records(chunked(data, size), "f.csv"))


def test_a_record_starts_on_the_line_where_it_starts() -> None:
    data = b'phone,name\n\n+13125550142,"Ana\nLima"\n+13125550143,Bo'
    assert [line for line, _ in csv_reader.records(chunked(data, 3), "f.csv")] == [1, 3, 5]


@pytest.mark.parametrize("size", [64, 1000, csv_reader.CHUNK])
def test_a_windows_1252_file_reads_the_same_whatever_chunk_holds_its_first_accent(
        size: int) -> None:
    """Excel's "CSV" on Windows: plain ASCII rows first, the first accent far into the file
    (in a later chunk than the first, or in the only one). The names read as written. (The
    encoding is guessed from the chunk holding the first non-ASCII byte: chunks of a few bytes
    are too little to guess from; files are read in import_file.CHUNK.)"""
    text = "phone,name\n" + "".join(f"+1312555{n:04d},Ana Lima\n" for n in range(20)) + \
        "+13125559999,José Núñez\n+13125559998,Zoë Brontë\n"
    got = [cells for _, cells in csv_reader.records(chunked(text.encode("cp1252"), size),
                                                    "f.csv")]
    assert got == whole(text)
