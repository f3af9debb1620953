"""The console's read-only pages: Tonight, People, one Person, a person's visit report (PDF).
GET only: nothing here writes (a Tonight row's form posts to actions.py)."""

from __future__ import annotations

import csv
import io
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, abort, g, render_template, request

from reminders.app.console import people_search
from reminders.app.console.tonight import tonight
from reminders.app.people import preferences
from reminders.app.records import analytics, history, visit_report
from reminders.app.records.person_json import describe
from reminders.app.replies import program
from reminders.domain import zones
from reminders.domain.subscriber import CAUSES, Subscriber
from reminders.domain.validation import InvalidInput
from reminders.entry.web.console import charts
from reminders.messages import visit_report as printed
from reminders.wiring import Services

log = logging.getLogger(__name__)
audit_log = logging.getLogger("reminders.audit")


def find(svc: Services, handle: str) -> Subscriber:
    """The person a URL names (phone or email), or a 404 page."""
    try:
        sub = svc.store.find(handle)
    except InvalidInput:
        sub = None
    if sub is None:
        abort(404, f"Nobody has the number or address {handle[:100]!r}.")
    return sub


def form_values(info: dict[str, Any]) -> dict[str, str]:
    """The edit form's fields (the `set` keys) as `show` describes the person now."""
    def yes(value: bool) -> str:
        return "yes" if value else "no"

    return {"name": info["name"] or "", "phone": info["phone"] or "",
            "email": info["email"] or "", "time": info["time"], "timezone": info["timezone"],
            "channel": str(info["channel"]), "heat_ok": yes(info["heat_ok"]),
            "massage_ok": yes(info["massage_ok"]), "paused_until": info["paused_until"] or "",
            "cause": info["cause"] or "none", "language": info["language"],
            "frequency": info["frequency"], "routine_days": info["routine_days"],
            "temp_monitoring": yes(info["temp_monitoring"])}


@dataclass(frozen=True)
class TonightError:
    """A Tonight row's change that was refused: whose, why, and what was typed (shown again)."""

    subscriber_id: str
    message: str
    given: dict[str, str]


def tonight_view(svc: Services, page: int, error: TonightError | None = None,
                 status: int = 200, after: str = "") -> Any:
    now = datetime.now(UTC)
    found = tonight(svc.store, svc.settings, now, page=page, after=after)
    return render_template("console/tonight.html", operator=g.operator, t=found, now=now,
                           after=after if found.page > 1 else "",
                           until_name=zones.common_name(found.until_zone),
                           chart=charts.nights_chart(found.stats["nights"]), error=error,
                           causes=("none", *CAUSES)), status


def person_page(svc: Services, sub: Subscriber, values: dict[str, str] | None = None,
                error: str = "", status: int = 200) -> Any:
    now = datetime.now(UTC)
    info = describe(svc.store, sub, now)
    nights = history.last_nights(svc.store, sub, now)
    try:
        unsubscribe = svc.composer.unsubscribe_url(sub) if sub.email else None
        preview: Any = svc.renderer.tonight(sub, history.tonight_date(sub, now), unsubscribe)
    except Exception:  # the page still shows the rest; the log has the reason
        log.exception("preview failed for %s", sub.id)
        preview = None
    return render_template(
        "console/person.html", operator=g.operator, info=info, handle=sub.handle(),
        values=values or form_values(info), error=error, settable=preferences.SETTABLE,
        consent=list(reversed(svc.store.consent_history(sub.id))), nights=nights,
        chart=charts.person_chart(nights), preview=preview,
        temps=program.temperature_history(svc.store, sub),
        messages=history.messages(svc.store, sub, now), reviews=svc.reviews.of_person(sub)
    ), status


def _page_number() -> int:
    """?page=N (from 1); anything else is page 1."""
    try:
        return min(max(int(request.args.get("page", "1")), 1), 1_000_000)
    except ValueError:
        return 1


def register(bp: Blueprint, svc: Services) -> None:
    def tonight_page() -> Any:
        return tonight_view(svc, _page_number(), after=request.args.get("after", "")[:100])

    def people_page() -> Any:
        query, state = request.args.get("q", ""), request.args.get("state", "")
        error = ""
        try:
            found = people_search.search(svc.store, query, state, _page_number(), datetime.now(UTC))
        except InvalidInput as exc:
            error, found = str(exc), people_search.Page([], 0, 1, 1)
        return render_template("console/people.html", operator=g.operator, q=query,
                               state=state, states=people_search.STATES, found=found, error=error)

    def person_view(handle: str) -> Any:
        return person_page(svc, find(svc, handle))

    def report_view(handle: str) -> Any:
        return visit_report_pdf(svc, find(svc, handle))

    def deliveries_csv(handle: str) -> Any:
        """The person's delivery report (?days=N, up to history.REPORT_DAYS) as CSV."""
        sub = find(svc, handle)
        try:
            days = min(max(int(request.args.get("days", "90")), 1), history.REPORT_DAYS)
        except ValueError:
            days = 90
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=history.REPORT_COLUMNS)
        writer.writeheader()
        writer.writerows(history.delivery_report(svc.store, sub, datetime.now(UTC), days))
        name = f"deliveries-{sub.handle().lstrip('+').replace('@', '_at_')}.csv"
        return Response(out.getvalue(), mimetype="text/csv", headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store"})

    def analytics_page() -> Any:
        found = analytics.compute(svc.store, datetime.now(UTC))
        return render_template("console/analytics.html", operator=g.operator, a=found,
                               chart=charts.retention_chart(found["retention"]),
                               engaged=charts.engagement_chart(found["engagement"]),
                               words=charts.stop_words_chart(found["stopped_by_word"]))

    bp.add_url_rule("/analytics", endpoint="analytics", view_func=analytics_page,
                    methods=["GET"])
    bp.add_url_rule("/people/<handle>/deliveries.csv", endpoint="deliveries",
                    view_func=deliveries_csv, methods=["GET"])
    bp.add_url_rule("/", endpoint="tonight", view_func=tonight_page, methods=["GET"])
    bp.add_url_rule("/people", endpoint="people", view_func=people_page, methods=["GET"])
    bp.add_url_rule("/people/<handle>", endpoint="person", view_func=person_view,
                    methods=["GET"])
    bp.add_url_rule("/people/<handle>/report.pdf", endpoint="visit_report",
                    view_func=report_view, methods=["GET"])


def visit_report_pdf(svc: Services, sub: Subscriber) -> Any:
    """The visit report (`reminders report`) for the browser to print. A GET changes nothing,
    so its audit line (who, what, whose) goes to the log, not to the consent/audit stream."""
    now = datetime.now(UTC)
    weeks = request.args.get("weeks", "12")
    try:
        facts = visit_report.facts(svc.store, svc.renderer, svc.settings.program_name, sub,
                                   int(weeks) if weeks.isdigit() else 0, now)
    except ValueError as exc:
        abort(400, str(exc))
    paper = request.args.get("paper", "letter")
    try:
        data = printed.pdf(svc.settings.templates_dir, facts, now, paper)
    except printed.PdfUnavailable as exc:
        log.error("visit report: %s", exc)
        abort(503, "The PDF cannot be made on this server (see the web log); "
                   "`reminders report PHONE --format html` still works.")
    audit_log.info("audit operator=%s action=visit_report_pdf subscriber=%s weeks=%s",
                   g.operator, sub.id, facts.weeks)
    return Response(data, mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="visit-report-{sub.id}-{now:%Y-%m-%d}.pdf"'})
