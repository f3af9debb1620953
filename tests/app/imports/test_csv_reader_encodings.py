"""A CSV the way spreadsheets save it: Excel on Windows writes Windows-1252 (one "José" is the
byte 0xE9, a curly apostrophe 0x92), "Unicode text" is UTF-16 with a BOM. Both import whole;
a binary file is still refused with one line. Through `reminders import` on a real Redis."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Cli

ROWS = ("phone,name,timezone,time,confirmed,language\n"
        "+13125550150,José Núñez,America/Chicago,20:00,yes,es\n"
        "+13125550151,Siobhán O\u2019Neil,America/New_York,19:30,yes,en\n")


@pytest.mark.parametrize("encoding", ["cp1252", "utf-16", "utf-8-sig", "utf-8"])
def test_what_spreadsheets_write_is_imported_whole(cli: Cli, tmp_path: Path,
                                                    encoding: str) -> None:
    path = tmp_path / "clinic.csv"
    path.write_bytes(ROWS.encode(encoding))
    done = cli("import", str(path))
    assert done.returncode == 0, done.stderr
    names = {row["phone"]: row["name"] for row in json.loads(cli("list", "--json").stdout)}
    assert names == {"+13125550150": "José Núñez", "+13125550151": "Siobhán O\u2019Neil"}


def test_a_binary_file_is_still_refused(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "photo.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe" * 20)
    refused = cli("import", str(path))
    assert refused.returncode == 2 and "not a UTF-8 CSV file" in refused.stderr
    assert json.loads(cli("list", "--json").stdout) == []
