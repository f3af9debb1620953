"""The console's inbox: what needs a person, most urgent first (GET /console/inbox), taking an
item (POST /console/inbox/<id>/take) and closing it with an outcome and a note (POST
/console/inbox/<id>/close). The same app/ functions as `reminders inbox`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from reminders.app.care import inbox, loop_stats
from reminders.app.care.review import OUTCOMES
from reminders.app.records import audit
from reminders.domain.validation import InvalidInput
from reminders.wiring import Services


def register(bp: Blueprint, svc: Services) -> None:
    def inbox_page() -> Any:
        now = datetime.now(UTC)
        show_all = request.args.get("all") == "1"
        rows = inbox.entries(svc.store, svc.reviews, now, include_closed=show_all)
        return render_template("console/inbox.html", operator=g.operator, rows=rows,
                               show_all=show_all, outcomes=OUTCOMES,
                               unreachable=inbox.unreachable_people(svc.store),
                               figures=loop_stats.figures(svc.store, now))

    def take(item_id: str) -> Any:
        try:
            svc.reviews.take(item_id[:20], g.operator, datetime.now(UTC))
        except InvalidInput as exc:
            flash(f"Not taken: {exc}.")
        else:
            audit.record(svc.store, g.operator, "console_review_take", item_id[:20])
            flash(f"Item {item_id[:20]} is yours.")
        return redirect(url_for("console.inbox") + f"#item-{item_id[:20]}")

    def close(item_id: str) -> Any:
        outcome = request.form.get("outcome", "")
        note = request.form.get("note", "")
        try:
            svc.reviews.close(svc.store, item_id[:20], outcome, note, g.operator,
                              datetime.now(UTC), source="console")
        except InvalidInput as exc:
            flash(f"Not closed: {exc}.")
        else:
            audit.record(svc.store, g.operator, "console_review_close",
                         f"{item_id[:20]} {outcome}")
            flash(f"Item {item_id[:20]} closed: {outcome.replace('_', ' ')}.")
        return redirect(url_for("console.inbox"))

    bp.add_url_rule("/inbox", endpoint="inbox", view_func=inbox_page, methods=["GET"])
    bp.add_url_rule("/inbox/<item_id>/take", endpoint="inbox_take", view_func=take,
                    methods=["POST"])
    bp.add_url_rule("/inbox/<item_id>/close", endpoint="inbox_close", view_func=close,
                    methods=["POST"])
