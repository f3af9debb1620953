"""The operators' web console (/console): server-rendered pages over the same app/ functions
as the CLI. This module sets up what every page shares: the session cookie, CSRF, the login
guard and the error pages; auth.py logs in and out, pages.py and actions.py are the pages.

Sessions: the signed Flask cookie holds only a random token; the session itself is in Redis
(storage/operators.py) and names the operator's record, so logout, `operator remove` and a new
password end it server-side. GET and HEAD only read: every change is a separate POST view,
and every POST carries a CSRF token (Flask-WTF) checked before anything else runs.
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta
from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException

from reminders.app.care.review import local
from reminders.app.console import operators
from reminders.wiring import Services

log = logging.getLogger(__name__)
UPLOAD_LIMIT = 20 * 1024 * 1024  # an import's CSV: some 200,000 rows (streamed to Redis)
OPEN_ENDPOINTS = ("console.login_page", "console.login")


def configure(app: Flask, svc: Services) -> CSRFProtect:
    s = svc.settings
    if s.secret_key:
        app.secret_key = s.secret_key
    else:  # console mode (settings allow it only there): this process's own key
        app.secret_key = secrets.token_urlsafe(32)
        log.info("console sessions signed with a per-process key (no SECRET_KEY); "
                 "logins end when the web process restarts")
    app.config.update(
        SESSION_COOKIE_NAME="console_session", SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_SECURE=s.public_url.startswith("https:"),
        SESSION_COOKIE_PATH="/console",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=s.console_session_hours),
        # Checked by the console's own guard (below), not on the webhooks and email links.
        WTF_CSRF_CHECK_DEFAULT=False,
        # The token lives as long as the session; the session's own lifetime bounds it.
        WTF_CSRF_TIME_LIMIT=None,
    )
    csrf = CSRFProtect(app)
    return csrf


def blueprint(svc: Services, csrf: CSRFProtect) -> Blueprint:
    from reminders.entry.web.console import actions, auth, coordinator, imports, inbox, pages

    bp = Blueprint("console", __name__, url_prefix="/console")

    @bp.before_request
    def guard() -> Any:
        if request.endpoint == "console.import_csv":
            request.max_content_length = UPLOAD_LIMIT  # before the form is read (by CSRF)
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            csrf.protect()
        if request.endpoint in OPEN_ENDPOINTS:
            return None
        operator = operators.current(svc.store, session.get("token", ""))
        if operator is None:
            if request.method in ("GET", "HEAD"):
                return redirect(url_for("console.login_page", next=request.path))
            return error_page("Please log in", "Your session has ended. Log in again.", 401)
        g.operator = operator
        return None

    @bp.after_request
    def headers(response: Response) -> Response:
        # Personal data: not cached, not framed by another site, no script but ours (none).
        response.headers.setdefault("Cache-Control", "no-store")
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["Content-Security-Policy"] = (
            "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
            "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
        return response

    @bp.errorhandler(CSRFError)
    def bad_csrf(exc: CSRFError) -> Any:
        return error_page("Form expired", "This form has expired or did not come from the "
                          "console. Go back, reload the page and try again.", 400)

    @bp.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        return error_page(exc.name, exc.description or exc.name, exc.code or 500)

    auth.register(bp, svc)
    pages.register(bp, svc)
    actions.register(bp, svc)
    imports.register(bp, svc)
    inbox.register(bp, svc)
    coordinator.register(bp, svc)
    return bp


def error_page(title: str, message: str, status: int) -> Any:
    return render_template("console/error.html", title=title, message=message,
                           operator=g.get("operator")), status


def install(app: Flask, svc: Services) -> None:
    """Add the console to the web app."""
    csrf = configure(app, svc)
    # An instant in the person's own zone ("2026-12-07 21:04 CST"); pages keep UTC for tooltips.
    app.jinja_env.filters["their_time"] = local
    app.register_blueprint(blueprint(svc, csrf))
