"""Console login and logout: the form, the rate-limited check (app/console/operators.py), the
cookie."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, redirect, render_template, request, session, url_for

from reminders.app.console import operators
from reminders.wiring import Services


def _safe_next(raw: str | None) -> str:
    """Only a console path: never a redirect to another site (`//evil`, `https://...`)."""
    if (raw and raw.startswith("/console/") and not raw.startswith("//") and "\\" not in raw
            and raw.isprintable() and " " not in raw):  # no CR/LF or other control characters
        return raw
    return url_for("console.tonight")


def register(bp: Blueprint, svc: Services) -> None:
    def login_page() -> Any:
        return render_template("console/login.html", error="", email="",
                               next=_safe_next(request.args.get("next")))

    def login() -> Any:
        email = request.form.get("email", "")
        try:
            token = operators.login(svc.store, email, request.form.get("password", ""),
                                    request.remote_addr or "unknown",
                                    svc.settings.console_session_hours)
        except operators.LoginRefused as exc:
            return render_template("console/login.html", error=str(exc), email=email[:254],
                                   next=_safe_next(request.form.get("next"))), 401
        session.clear()  # a new session (and CSRF token) at every login: no fixation
        session["token"] = token
        session.permanent = True
        return redirect(_safe_next(request.form.get("next")))

    def logout() -> Any:
        operators.logout(svc.store, session.get("token", ""), g.operator)
        session.clear()
        return redirect(url_for("console.login_page"))

    bp.add_url_rule("/login", endpoint="login_page", view_func=login_page, methods=["GET"])
    bp.add_url_rule("/login", endpoint="login", view_func=login, methods=["POST"])
    bp.add_url_rule("/logout", endpoint="logout", view_func=logout, methods=["POST"])
