"""The coordinator's console pages: enrol one person (GET|POST /console/enrol), the people
still pending and asking them (GET|POST /console/pending, POST /console/people/<h>/confirm),
and a person's caregiver (POST /console/people/<h>/caregiver, .../caregiver/remove). The same
app/ functions as `subscribe`, `caregiver add|remove`; an audit line names the operator."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from reminders.app.console import coordinator, people_search
from reminders.app.people.preferences import Enrolment
from reminders.app.records import audit
from reminders.domain import zones
from reminders.domain.validation import InvalidInput
from reminders.entry.web.console.pages import find
from reminders.wiring import Services

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

    def pending_post(self) -> Any:
        now = datetime.now(UTC)
        ids = (coordinator.pending_ids(self.svc.store, now) if request.form.get("all") == "1"
               else [i[:64] for i in request.form.getlist("person")])
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
            ("/people/<handle>/confirm", "confirm_one", c.confirm_one, "POST"),
            ("/people/<handle>/caregiver", "caregiver_add", c.caregiver_add, "POST"),
            ("/people/<handle>/caregiver/remove", "caregiver_remove", c.caregiver_remove,
             "POST")):
        bp.add_url_rule(rule, endpoint=endpoint, view_func=view, methods=[method])
