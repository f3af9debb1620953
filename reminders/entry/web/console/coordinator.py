"""The coordinator's console pages: enrol one person (GET|POST /console/enrol), the people
still pending and asking them (GET|POST /console/pending, POST /console/people/<h>/confirm;
"send to all" is a job on a worker, its page GET /console/pending/<job>: a paced text each
would outlast the request), and a person's caregiver (POST /console/people/<h>/caregiver,
.../caregiver/remove). The same app/ functions as `subscribe`, `caregiver add|remove`; an
audit line names the operator."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from celery import Celery
from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from kombu.exceptions import OperationalError

from reminders.app.console import coordinator, people_search
from reminders.app.imports import jobs
from reminders.app.people.preferences import Enrolment
from reminders.app.records import audit
from reminders.domain import zones
from reminders.domain.validation import InvalidInput
from reminders.entry.web.console.pages import find
from reminders.wiring import Services

log = logging.getLogger(__name__)

CONFIRM_TASK = "reminders.confirm_import"  # asks a job's people (an import's, or everyone's)
REFRESH_SECONDS = 2
_JOB_ID = re.compile(r"[0-9a-f]{16}")
FIELDS = ("phone", "email", "name", "timezone", "time", "channel", "language", "cause")


def _form(values: dict[str, str], error: str = "", status: int = 200) -> Any:
    return render_template("console/enrol.html", operator=g.operator, values=values,
                           error=error, common=zones.COMMON_US, others=zones.other_zones()
                           ), status


class Coordinator:
    def __init__(self, svc: Services) -> None:
        self.svc = svc

    def enrol_page(self) -> Any:
        return _form({"timezone": "America/Chicago", "time": "20:00", "language": "en",
                      "channel": "sms"})

    def enrol_post(self) -> Any:
        values = {name: request.form.get(name, "").strip()[:200] for name in FIELDS}
        try:
            sub, asked = coordinator.enrol_one(
                self.svc.store, self.svc.settings, self.svc.confirmations, Enrolment(
                    phone=values["phone"] or None, email=values["email"] or None,
                    name=values["name"], timezone=values["timezone"] or None,
                    time=values["time"] or None, channel=values["channel"] or None,
                    language=values["language"] or None,
                    cause=values["cause"] if values["cause"] not in ("", "none") else None),
                g.operator, datetime.now(UTC))
        except InvalidInput as exc:  # AlreadySubscribed is one
            return _form(values, str(exc), 400)
        flash(f"Enrolled; confirmation: {asked.summary()}. Nothing else is sent until they "
              "reply YES (or click the emailed link).")
        return redirect(url_for("console.person", handle=sub.handle()))

    def pending_page(self) -> Any:
        found = people_search.search(self.svc.store, "", "sms:pending", 1, datetime.now(UTC),
                                     per_page=coordinator.MAX_ASKED_AT_ONCE)
        return render_template("console/pending.html", operator=g.operator, found=found)

    @cached_property
    def producer(self) -> Celery:
        from reminders.entry.celery.app import producer_for  # Celery config only when needed

        return producer_for(self.svc.settings)

    def ask_everyone(self) -> Any:
        """Hand "everyone waiting for YES" to a worker; its page shows how it goes."""
        store, now = self.svc.store, datetime.now(UTC)
        job_id, new = jobs.ask_everyone_pending_later(store, g.operator, now)
        if new:
            try:
                self.producer.send_task(CONFIRM_TASK, args=(job_id, g.operator))
            except OperationalError as exc:
                log.error("asking everyone pending (%s) not handed to a worker: %s", job_id,
                          exc)
                store.imports.update(job_id, {"confirm_state": "failed"})
        return redirect(url_for("console.pending_job", job_id=job_id), 303)

    def pending_job(self, job_id: str) -> Any:
        job = self.svc.store.imports.get(job_id) if _JOB_ID.fullmatch(job_id) else None
        if job is None or job.get("kind") != jobs.PENDING_KIND:
            abort(404, "No such request (each is kept for 30 days).")
        asking = jobs.asking(job, datetime.now(UTC))
        return render_template("console/pending_job.html", operator=g.operator, job=job,
                               asking=asking, refresh=REFRESH_SECONDS if asking else 0)

    def pending_post(self) -> Any:
        if request.form.get("all") == "1":
            return self.ask_everyone()
        now = datetime.now(UTC)
        ids = [i[:64] for i in request.form.getlist("person")]
        if not ids:
            flash("Nobody selected.")
            return redirect(url_for("console.pending"))
        asked = coordinator.ask(self.svc.store, self.svc.confirmations, ids, g.operator, now)
        flash(f"Confirmation texts: {asked.summary()}.")
        return redirect(url_for("console.pending"))

    def confirm_one(self, handle: str) -> Any:
        sub = find(self.svc, handle)
        asked = coordinator.ask(self.svc.store, self.svc.confirmations, [sub.id], g.operator,
                                datetime.now(UTC))
        flash(f"Confirmation: {asked.summary()}.")
        return redirect(url_for("console.person", handle=sub.handle()))

    def caregiver_add(self, handle: str) -> Any:
        sub = find(self.svc, handle)
        phone = request.form.get("caregiver_phone", "").strip()[:40]
        name = " ".join(request.form.get("caregiver_name", "").split())[:80]
        try:
            if not sub.phone:
                raise InvalidInput("the person needs a phone number to text CARE YES")
            link = self.svc.caregivers(datetime.now(UTC)).add(sub, phone, name)
        except InvalidInput as exc:
            flash(f"Caregiver not added: {exc}.")
        else:
            audit.record(self.svc.store, g.operator, "console_caregiver_add", sub.id)
            flash(f"Invited {link.phone}: they reply YES and the person texts CARE YES; until "
                  "both do, the caregiver gets nothing else.")
        return redirect(url_for("console.person", handle=sub.handle()))

    def caregiver_remove(self, handle: str) -> Any:
        sub = find(self.svc, handle)
        removed = self.svc.caregivers(datetime.now(UTC)).remove(sub)
        if removed:
            audit.record(self.svc.store, g.operator, "console_caregiver_remove", sub.id)
        flash("Caregiver removed." if removed else "No caregiver to remove.")
        return redirect(url_for("console.person", handle=sub.handle()))


def register(bp: Blueprint, svc: Services) -> None:
    c = Coordinator(svc)
    for rule, endpoint, view, method in (
            ("/enrol", "enrol", c.enrol_page, "GET"),
            ("/enrol", "enrol_post", c.enrol_post, "POST"),
            ("/pending", "pending", c.pending_page, "GET"),
            ("/pending", "pending_post", c.pending_post, "POST"),
            ("/pending/<job_id>", "pending_job", c.pending_job, "GET"),
            ("/people/<handle>/confirm", "confirm_one", c.confirm_one, "POST"),
            ("/people/<handle>/caregiver", "caregiver_add", c.caregiver_add, "POST"),
            ("/people/<handle>/caregiver/remove", "caregiver_remove", c.caregiver_remove,
             "POST")):
        bp.add_url_rule(rule, endpoint=endpoint, view_func=view, methods=[method])
