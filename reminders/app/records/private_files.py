"""Files of personal data that operators ask for (the visit report, the FHIR export): readable
by their owner only (0600, whatever the umask), and whole or absent.

Each file is written under a temporary name beside its final one, created 0600 with O_EXCL,
and renamed into place only once it is complete: a crash, a full disk or bad input leaves no
half-written report, and no moment where another user of the machine can read it.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

MODE = 0o600


@contextmanager
def private_file(path: Path, binary: bool = False) -> Iterator[IO[Any]]:
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.part")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, MODE)
    try:
        with (os.fdopen(descriptor, "wb") if binary
              else os.fdopen(descriptor, "w", encoding="utf-8", newline="\n")) as handle:
            yield handle
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_private(path: Path, data: bytes) -> None:
    with private_file(path, binary=True) as handle:
        handle.write(data)
