"""The console's import: the upload (POST), hands the file to a worker as a job and answers
at once with a redirect to the job's page; that page (GET, nothing written) shows the progress,
refreshing itself every few seconds until the job ends, then the counts and the refused rows,
a page of them at a time, each named by its line (a workbook's row) and the name it gives,
with a button that asks everyone the import left pending (POST; a worker's job, each person
once). The import
page lists recent jobs.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from celery import Celery
from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from kombu.exceptions import OperationalError

from reminders.app.imports import jobs
from reminders.storage import imports
from reminders.wiring import Services

log = logging.getLogger(__name__)

TASK = "reminders.import_csv"
CONFIRM_TASK = "reminders.confirm_import"
PER_PAGE = 100
REFRESH_SECONDS = 2
_JOB_ID = re.compile(r"[0-9a-f]{16}")


class ImportViews:
    def __init__(self, svc: Services) -> None:
        self.svc = svc

    @cached_property
    def producer(self) -> Celery:
        from reminders.entry.celery.app import producer_for  # Celery config only when needed

        return producer_for(self.svc.settings)

    def import_page(self, error: str = "", status: int = 200) -> Any:
        return render_template("console/import.html", operator=g.operator, error=error,
                               jobs=imports.recent(self.svc.redis), now=datetime.now(UTC),
                               stalled=jobs.stalled), status

    def import_csv(self) -> Any:
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            return self.import_page("Choose a CSV file to upload.", 400)
        now = datetime.now(UTC)
        job_id = jobs.upload(self.svc.store, g.operator, upload.filename, upload.stream,
                             now)
        try:
            self.producer.send_task(TASK, args=(job_id,))
        except OperationalError as exc:
            log.error("import %s not handed to a worker: %s", job_id, exc)
            jobs.refuse(self.svc.store, job_id, "The import could not be handed to a "
                        "worker (the broker did not answer). Upload the file again.",
                        now)
        return redirect(url_for("console.import_job", job_id=job_id), 303)

    def _job(self, job_id: str) -> dict[str, str]:
        job = imports.get(self.svc.redis, job_id) if _JOB_ID.fullmatch(job_id) else None
        if job is None:
            abort(404, "No such import (a job's report is kept for 30 days).")
        return job

    def confirm_pending(self, job_id: str) -> Any:
        """Ask everyone this import enrolled who is still pending (each once, for good), on a
        worker: one paced text each would outlast the request."""
        self._job(job_id)
        if not jobs.ask_pending_later(self.svc.store, job_id, g.operator,
                                      datetime.now(UTC)):
            flash("The import has not finished: nobody asked yet.")
            return redirect(url_for("console.import_job", job_id=job_id), 303)
        try:
            self.producer.send_task(CONFIRM_TASK, args=(job_id, g.operator))
        except OperationalError as exc:
            log.error("asking import %s's pending people not handed to a worker: %s", job_id,
                      exc)
            flash("Nobody asked: the broker did not answer. Press the button again.")
        return redirect(url_for("console.import_job", job_id=job_id), 303)

    def import_job(self, job_id: str) -> Any:
        job = self._job(job_id)
        page = request.args.get("page", "1")
        number = int(page) if page.isdigit() and 0 < len(page) < 7 else 1
        failed = int(job.get("failed") or 0)
        kept = min(failed, imports.IMPORT_ERRORS_KEPT)
        pages = max(1, -(-kept // PER_PAGE))
        number = min(number, pages)
        rows = imports.errors(self.svc.redis, job_id, (number - 1) * PER_PAGE, PER_PAGE)
        now = datetime.now(UTC)
        asking = jobs.asking(job, now)
        running = (job.get("state") not in ("done", "failed")
                   and not jobs.stalled(job, now)) or asking
        return render_template("console/import_job.html", operator=g.operator, job=job,
                               job_id=job_id, rows=rows, page=number, pages=pages, kept=kept,
                               per_page=PER_PAGE, refresh=REFRESH_SECONDS if running else 0,
                               stalled=jobs.stalled(job, now), asking=asking)


def register(bp: Blueprint, svc: Services) -> None:
    views = ImportViews(svc)
    bp.add_url_rule("/import", endpoint="import_page", view_func=lambda: views.import_page(),
                    methods=["GET"])
    bp.add_url_rule("/import", endpoint="import_csv", view_func=views.import_csv,
                    methods=["POST"])
    bp.add_url_rule("/import/<job_id>", endpoint="import_job", view_func=views.import_job,
                    methods=["GET"])
    bp.add_url_rule("/import/<job_id>/confirm", endpoint="import_confirm",
                    view_func=views.confirm_pending, methods=["POST"])
