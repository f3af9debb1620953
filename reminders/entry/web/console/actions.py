"""The console's changes, each a POST view of its own: a person's preferences (on their page,
or a Tonight row's state, language and cause), send-now,
clearing a flag (the import, a job on a worker, is imports.py's). Each goes through the same
app/ function as its command (`set`, `send-now`, `flags clear`) and leaves an audit line naming
the operator.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from reminders.app.care import flags
from reminders.app.people import preferences
from reminders.app.records import audit
from reminders.app.records.person_json import describe
from reminders.domain.subscriber import Subscriber
from reminders.domain.validation import InvalidInput
from reminders.entry.cli.send_now import send_now
from reminders.entry.web.console.pages import (
    TonightError,
    find,
    form_values,
    person_page,
    tonight_view,
)
from reminders.storage.client import RedisUnavailable
from reminders.wiring import Services

MAX_NOTE = 160
# What a Tonight row changes in place: its state (a pause, or none), language and cause.
TONIGHT_KEYS = ("paused_until", "language", "cause")


class Actions:
    def __init__(self, svc: Services) -> None:
        self.svc = svc

    def _save(self, sub: Subscriber, current: dict[str, str], given: dict[str, str]
              ) -> preferences.Updated | None:
        """Save what the form changed (audited, as `set`); None when nothing did. InvalidInput:
        nothing saved."""
        changed = [f"{key}={value}" for key, value in given.items() if value != current.get(key)]
        if not changed:
            flash("Nothing changed.")
            return None
        updated = preferences.update(
            self.svc.store, self.svc.confirmations, sub, changed, datetime.now(UTC),
            [audit.about_person(g.operator, "console_set", " ".join(changed))], "console",
            self.svc.settings.windows)
        # Flash messages travel in the session cookie (signed, not encrypted): the names of
        # what changed, never the values (a phone number, an address, a name).
        flash(f"Saved: {', '.join(a.partition('=')[0] for a in changed)}.")
        return updated

    def set_preferences(self, handle: str) -> Any:
        sub = find(self.svc, handle)
        current = form_values(describe(self.svc.store, sub))
        given = {key: request.form[key].strip() for key in preferences.SETTABLE
                 if key in request.form}
        try:
            updated = self._save(sub, current, given)
        except InvalidInput as exc:
            return person_page(self.svc, sub, {**current, **given}, str(exc), 400)
        if updated is None:
            return redirect(url_for("console.person", handle=sub.handle()))
        after = updated.sub
        if (after.sms_status, after.email_status) != (sub.sms_status, sub.email_status) and (
                "pending" in (after.sms_status, after.email_status)):
            flash("A new number or address receives nothing until its owner confirms "
                  "(reply YES / the emailed link).")
        for problem in updated.problems:
            flash(f"Warning: {problem}")
        return redirect(url_for("console.person", handle=after.handle()))

    def tonight_set(self, handle: str) -> Any:
        """A Tonight row's language, cause and pause, changed in place (the same `set`)."""
        sub = find(self.svc, handle)
        raw = request.form.get("page", "1")
        page = int(raw) if raw.isdigit() and len(raw) < 7 else 1
        current = form_values(describe(self.svc.store, sub))
        given = {key: request.form[key].strip()[:100] for key in TONIGHT_KEYS
                 if key in request.form}
        after = request.form.get("after", "")[:100]  # the page's cursor: back to that page
        try:
            self._save(sub, current, given)
        except InvalidInput as exc:  # the page again, the row as typed and what to fix
            return tonight_view(self.svc, page, TonightError(sub.id, str(exc), given), 400,
                                after)
        return redirect(url_for("console.tonight", page=page, after=after or None)
                        + f"#row-{sub.id}")

    def send_now_view(self, handle: str) -> Any:
        sub = find(self.svc, handle)
        try:
            lines = send_now(self.svc, sub, datetime.now(UTC))
        except RedisUnavailable as exc:
            flash(f"Not sent: {exc}")
        else:
            audit.record(self.svc.store, g.operator, "console_send_now",
                         f"{sub.id} {'; '.join(lines)}")
            flash("Send now: " + "; ".join(lines))
        return redirect(url_for("console.person", handle=sub.handle()))

    def flags_page(self) -> Any:
        found = flags.all_open(self.svc.store, datetime.now(UTC))
        return render_template("console/flags.html", operator=g.operator, found=found,
                               outcomes=flags.OUTCOMES)

    def clear_flag(self) -> Any:
        now = datetime.now(UTC)
        sub = self.svc.store.get(request.form.get("person", "")[:64])
        note = " ".join(request.form.get("note", "").split())[:MAX_NOTE]
        outcome = request.form.get("outcome", "")
        if sub is None or not flags.is_open(sub, now):
            flash("That flag is no longer open.")
            return redirect(url_for("console.flags"))
        try:
            self.svc.reviews.close_flag(self.svc.store, sub, outcome, note, g.operator, now,
                                        source="console")
        except InvalidInput as exc:
            flash(f"Not cleared: {exc}.")
        else:
            flash(f"Cleared the flag ({g.operator}, {now:%Y-%m-%d %H:%M} UTC).")
        return redirect(url_for("console.flags"))


def register(bp: Blueprint, svc: Services) -> None:
    actions = Actions(svc)
    for rule, endpoint, view, method in (
            ("/people/<handle>", "set_preferences", actions.set_preferences, "POST"),
            ("/people/<handle>/send-now", "send_now", actions.send_now_view, "POST"),
            ("/tonight/<handle>", "tonight_set", actions.tonight_set, "POST"),
            ("/flags", "flags", actions.flags_page, "GET"),
            ("/flags", "clear_flag", actions.clear_flag, "POST")):
        bp.add_url_rule(rule, endpoint=endpoint, view_func=view, methods=[method])
