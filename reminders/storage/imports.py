"""Console import jobs (keys.IMPORTS, keys.import_job/import_file/import_errors/import_pending):
the uploaded bytes until a worker has read them, the job's state and counts as it runs, the rows
it refused and whom it enrolled pending, for the console's progress and report pages.

The upload is kept in Redis rather than on the web server's disk: the worker that runs the job
may be on another machine, and Redis is what both share. It is read back in ranges (GETRANGE),
so neither side holds the whole file.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from reminders.storage import codec, keys
from reminders.storage.client import Client

KEEP_SECONDS = 30 * 86400  # a job's record, report and audit trail in the console
FILE_SECONDS = 86400  # the upload, if no worker ever took the job
IMPORTS_KEPT = 50  # jobs listed on the import page
IMPORT_ERRORS_KEPT = 10_000  # refused rows kept for the report page (all are counted)
IMPORT_PENDING_KEPT = 200_000  # ids of people enrolled pending (an upload's limit is 20 MB)


def create(client: Client, job_id: str, fields: Mapping[str, str], at: float) -> None:
    with client.pipeline() as pipe:
        pipe.hset(keys.import_job(job_id), mapping=_fields(fields))
        pipe.expire(keys.import_job(job_id), KEEP_SECONDS)
        pipe.zadd(keys.IMPORTS, {job_id: at})
        pipe.zremrangebyrank(keys.IMPORTS, 0, -IMPORTS_KEPT - 1)
        pipe.execute()


def claim(client: Client, job_id: str) -> bool:
    """True for the first caller only: one worker runs a job, whatever the broker delivers."""
    return int(client.hincrby(keys.import_job(job_id), "claims", 1)) == 1


def append_file(client: Client, job_id: str, chunk: bytes) -> int:
    """Add to the upload; its size so far."""
    with client.pipeline() as pipe:
        pipe.append(keys.import_file(job_id), chunk)
        pipe.expire(keys.import_file(job_id), FILE_SECONDS)
        size, _ = pipe.execute()
    return int(size)


def read_file(client: Client, job_id: str, chunk: int) -> Iterator[bytes]:
    """The upload from its start, `chunk` bytes at a time."""
    key, offset = keys.import_file(job_id), 0
    while data := client.getrange(key, offset, offset + chunk - 1):
        yield data if isinstance(data, bytes) else data.encode()
        offset += len(data)


def update(client: Client, job_id: str, fields: Mapping[str, str | int]) -> None:
    client.hset(keys.import_job(job_id), mapping=_fields(fields))


def progress(client: Client, job_id: str, errors: Sequence[tuple[int, str, str]],
             pending_ids: Sequence[str], fields: Mapping[str, str | int],
             final: bool = False) -> None:
    """One step of the job's progress in one transaction: the refused rows (line, name, reason;
    the caller stops at IMPORT_ERRORS_KEPT), whom it enrolled pending (they wait for YES, in
    file order) and the counts; `final`: the upload goes too. A page read between the rows and
    the counts would show refused rows without their count (a 500 under load)."""
    errors_key, pending_key = keys.import_errors(job_id), keys.import_pending(job_id)
    keep_pending = pending_ids and client.llen(pending_key) < IMPORT_PENDING_KEPT
    with client.pipeline() as pipe:
        if errors:
            pipe.rpush(errors_key, *(f"{line}\t{_one_line(name)}\t{_one_line(reason)}"
                                     for line, name, reason in errors))
            pipe.expire(errors_key, KEEP_SECONDS)
        if keep_pending:
            pipe.rpush(pending_key, *pending_ids)
            pipe.expire(pending_key, KEEP_SECONDS)
        pipe.hset(keys.import_job(job_id), mapping=_fields(fields))
        if final:
            pipe.delete(keys.import_file(job_id))
        pipe.execute()


def pending(client: Client, job_id: str, limit: int) -> list[str]:
    """The ids of the first `limit` people the job enrolled pending (some may have answered
    or left since)."""
    return [codec.text(raw) for raw in client.lrange(keys.import_pending(job_id), 0, limit - 1)]


def _one_line(text: str) -> str:
    return " ".join(text.split())  # a tab or line end would split the stored row


def finish(client: Client, job_id: str, fields: Mapping[str, str | int]) -> None:
    """The job's last state; its upload is deleted (read and done with)."""
    with client.pipeline() as pipe:
        pipe.hset(keys.import_job(job_id), mapping=_fields(fields))
        pipe.delete(keys.import_file(job_id))
        pipe.execute()


def _fields(fields: Mapping[str, str | int]) -> dict[Any, Any]:
    return dict(fields)  # (redis-py's mapping type is invariant in its keys)


def get(client: Client, job_id: str) -> dict[str, str] | None:
    found = codec.text_hash(client.hgetall(keys.import_job(job_id)))
    return found or None


def errors(client: Client, job_id: str, start: int, count: int) -> list[tuple[int, str, str]]:
    """Refused rows (line, name, reason) [start, start + count) in file order."""
    found = []
    for raw in client.lrange(keys.import_errors(job_id), start, start + count - 1):
        parts = codec.text(raw).split("\t", 2)
        if len(parts) == 2:  # kept before rows had names
            parts.insert(1, "")
        found.append((int(parts[0]), parts[1], parts[2]))
    return found


def recent(client: Client) -> list[tuple[str, dict[str, str]]]:
    """The newest jobs first, those whose record has not expired."""
    ids = [codec.text(raw) for raw in client.zrevrange(keys.IMPORTS, 0, IMPORTS_KEPT - 1)]
    with client.pipeline() as pipe:
        for job_id in ids:
            pipe.hgetall(keys.import_job(job_id))
        found = pipe.execute()
    return [(job_id, codec.text_hash(raw)) for job_id, raw in zip(ids, found, strict=True) if raw]
