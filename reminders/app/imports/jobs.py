"""The console's import as a job on a worker: the upload is copied into Redis in chunks and the
request returns at once (a 15,000-row file no longer outlives gunicorn's worker timeout); the
task `reminders.import_csv` reads it back streamed, checks it whole, imports it row by row
(importer.py, the same rows as `reminders import`), writes its progress every few hundred rows,
keeps the refused rows (line, name, reason) for the report page and the ids of the people it
enrolled pending (the report page's "ask them all"), and ends with one audit line: who, which
file, the counts. Asking everyone an import left pending is a job too (a paced text each):
the console marks it queued, a worker asks them and writes the counts on the import's record,
every few people and at the end. The Pending page's "send to all" is the same job on a record
of its own (kind PENDING_KIND, listed with the imports): everyone waiting for YES, each at most
once a day (coordinator.ask's claims), however often it is pressed.

Memory stays bounded whatever the file: one chunk of the upload, one CSV record, a batch of
refused rows and of pending ids, and the importer's map of the phones and addresses already
taken by the file.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import IO

from reminders.app.console import coordinator
from reminders.app.imports import csv_reader, importer
from reminders.app.imports.importer import Report
from reminders.app.people.confirmations import Confirmations
from reminders.app.records import audit
from reminders.domain.validation import InvalidInput
from reminders.settings import Settings
from reminders.storage import imports
from reminders.storage.subscribers import Store

PROGRESS_EVERY = 200  # rows between two progress writes (one HSET, and the refused rows)
# A job whose record has not moved for this long has lost its worker (the task is acknowledged
# when it starts: a broker's redelivery of a long job while it runs would import it twice).
STALLED_SECONDS = 300
FILENAME_MAX = 120
# Asking writes only when it starts and ends: MAX_ASKED_AT_ONCE paced texts may take this long.
CONFIRM_STALLED_SECONDS = 3600
PENDING_KIND = "pending"  # a record that asks everyone waiting for YES (no file imported)


def upload(store: Store, operator: str, filename: str, stream: IO[bytes],
           now: datetime) -> str:
    """Keep the uploaded bytes for a worker; the new job's id (state "queued")."""
    job_id = secrets.token_hex(8)
    name = " ".join(filename.split())[:FILENAME_MAX] or "upload.csv"
    store.imports.create(job_id, {"operator": operator, "file": name, "state": "uploading",
                                    "created": _stamp(now), "updated": _stamp(now)},
                   now.timestamp())
    size = 0
    while chunk := stream.read(csv_reader.CHUNK):
        size = store.imports.append_file(job_id, chunk)
    store.imports.update(job_id, {"state": "queued", "bytes": size})
    return job_id


def refuse(store: Store, job_id: str, reason: str, now: datetime) -> None:
    """The job could not be handed to a worker: say so on its page."""
    store.imports.finish(job_id, {"state": "failed", "error": reason, "updated": _stamp(now)})


def run(store: Store, settings: Settings, job_id: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> str:
    """The worker's part; the job's final state ("" when it was not this call's to run)."""
    job = store.imports.get(job_id)
    if job is None or not store.imports.claim(job_id):
        return ""  # expired, or already taken (a task delivered twice)
    name, operator = job["file"], job["operator"]

    def source() -> Iterator[bytes]:
        return store.imports.read_file(job_id, csv_reader.CHUNK)

    store.imports.update(job_id, {"state": "checking", "updated": _stamp(clock())})
    try:
        total = importer.count_rows(source, name)
    except InvalidInput as exc:
        store.imports.finish(job_id, {"state": "failed", "error": str(exc)[:300],
                                        "updated": _stamp(clock())})
        audit.record(store, operator, "console_import", f"{name}: not imported ({exc})")
        return "failed"
    store.imports.update(job_id, {"state": "importing", "total": total,
                                  "unit": importer.unit(source, name),
                                    "updated": _stamp(clock())})
    progress = _Progress(store, job_id, clock)
    importer.import_rows(store, settings, importer.rows(source, name), on_row=progress.row,
                         words=audit.words(operator, f"import {name}"),
                         on_error=progress.refused, report=progress.report)
    # The audit line first: a page that says done has it.
    audit.record(store, operator, "console_import",
                 f"{name}: {progress.report.summary()} ({total} rows)")
    progress.write(final=True)
    return "done"


class _Progress:
    def __init__(self, store: Store, job_id: str, clock: Callable[[], datetime]) -> None:
        self.imports, self.job_id, self.clock = store.imports, job_id, clock
        self.report = Report()  # its pending_ids: written and emptied with each batch
        self.done = 0
        self.kept = 0
        self.batch: list[tuple[int, str, str]] = []

    def row(self) -> None:
        self.done += 1
        if self.done % PROGRESS_EVERY == 0:
            self.write()

    def refused(self, line: int, name: str, reason: str) -> None:
        if self.kept + len(self.batch) < imports.IMPORT_ERRORS_KEPT:
            self.batch.append((line, name, reason))

    def write(self, final: bool = False) -> None:
        report = self.report
        fields: dict[str, str | int] = {
            "done": self.done, "imported": report.imported, "unchanged": report.unchanged,
            "failed": report.failed, "pending": report.pending, "updated": _stamp(self.clock())}
        if final:
            fields["state"] = "done"
        # Rows, pending ids and counts at once: the page never sees rows without their count.
        self.imports.progress(self.job_id, self.batch, report.pending_ids, fields, final)
        self.kept += len(self.batch)
        self.batch = []
        report.pending_ids.clear()


def ask_pending_later(store: Store, job_id: str, operator: str, now: datetime) -> bool:
    """Mark the job's "ask everyone pending" as handed to a worker; False when the import has
    not finished (its pending people are not all known yet)."""
    job = store.imports.get(job_id) or {}
    if job.get("state") != "done":
        return False
    store.imports.update(job_id, {"confirm_state": "queued", "confirm_by": operator,
                                    "confirm_updated": _stamp(now)})
    audit.record(store, operator, "console_confirm_import", f"{job.get('file', '')} ({job_id})")
    return True


def ask_everyone_pending_later(store: Store, operator: str, now: datetime
                               ) -> tuple[str, bool]:
    """The job that asks everyone waiting for YES: (its id, True) for a new one marked queued
    (the caller hands it to a worker), or (the id, False) of the one still under way (a second
    click, or a second coordinator, waits for it rather than starting another)."""
    for job_id, job in store.imports.recent():
        if job.get("kind") == PENDING_KIND and asking(job, now):
            return job_id, False
    job_id = secrets.token_hex(8)
    store.imports.create(job_id, {
        "operator": operator, "kind": PENDING_KIND, "file": "everyone waiting for YES",
        "state": "done", "created": _stamp(now), "updated": _stamp(now),
        "confirm_state": "queued", "confirm_by": operator, "confirm_updated": _stamp(now)},
        now.timestamp())
    audit.record(store, operator, "console_confirm_all", job_id)
    return job_id, True


def confirm_pending(store: Store, confirmations: Confirmations, job_id: str, operator: str,
                    clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> str:
    """The worker's part: ask them (each once for this import, whatever the clicks: the claims
    are coordinator.ask's), and write how it went on the job for its page."""
    job = store.imports.get(job_id)
    if job is None:
        return ""
    store.imports.update(job_id, {"confirm_state": "asking",
                                    "confirm_updated": _stamp(clock())})

    def progress(asked: coordinator.Asked) -> None:
        store.imports.update(job_id, {"confirm_summary": asked.summary(),
                                      "confirm_updated": _stamp(clock())})

    if job.get("kind") == PENDING_KIND:
        now = clock()
        ids = coordinator.pending_ids(store, now)
        store.imports.update(job_id, {"confirm_total": len(ids)})
        asked = coordinator.ask(store, confirmations, ids, operator, now, progress=progress)
    else:
        asked = coordinator.ask_import(store, confirmations, job_id, operator, clock(),
                                       progress)
    store.imports.update(job_id, {"confirm_state": "done", "confirm_summary": asked.summary(),
                                    "confirm_updated": _stamp(clock())})
    return asked.summary()


def asking(job: dict[str, str], now: datetime) -> bool:
    """A worker is (or should be) asking the job's pending people; not when it has not
    written for CONFIRM_STALLED_SECONDS (it stopped: the button asks again)."""
    if job.get("confirm_state") not in ("queued", "asking") or not job.get("confirm_updated"):
        return False
    updated = datetime.fromisoformat(job["confirm_updated"])
    return (now - updated).total_seconds() <= CONFIRM_STALLED_SECONDS


def stalled(job: dict[str, str], now: datetime) -> bool:
    """Still unfinished, and nothing written for STALLED_SECONDS: its worker stopped."""
    if job.get("state") in ("done", "failed") or not job.get("updated"):
        return False
    updated = datetime.fromisoformat(job["updated"])
    return (now - updated).total_seconds() > STALLED_SECONDS


def _stamp(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="seconds")
