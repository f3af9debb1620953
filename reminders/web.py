"""The Flask adapter: signed Twilio webhooks, health. It parses HTTP and calls the core.

Every webhook is checked with twilio's RequestValidator against PUBLIC_URL + path (not the URL
Flask sees, which behind a TLS-terminating proxy is http://internal-host/...); the validator
also tries the URL with and without the default port, which Twilio may or may not have signed.
A bad or missing signature is a 403 and changes nothing; unreadable input is a 400; never a 500.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import redis
from flask import Flask, Response, jsonify, render_template, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse
from werkzeug.exceptions import HTTPException

from reminders import email_consent, tokens
from reminders.delivery_status import UnknownMessage, advance
from reminders.logs import install
from reminders.metrics import RedisCollector
from reminders.services import Services
from reminders.validation import InvalidInput, normalise_phone

log = logging.getLogger(__name__)


def twiml(message: str | None) -> Response:
    response = MessagingResponse()
    if message:
        response.message(message)
    return Response(str(response), status=200, mimetype="text/xml")


def _error(message: str, status: int) -> Any:
    return jsonify(error=message), status


class Webhooks:
    def __init__(self, svc: Services) -> None:
        self.svc = svc
        self.validator = RequestValidator(svc.settings.twilio_auth_token)
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(RedisCollector(svc.redis))

    def signed(self) -> bool:
        signature = request.headers.get("X-Twilio-Signature", "")
        if not self.svc.settings.twilio_auth_token or not signature:
            return False
        url = self.svc.settings.public_url + request.path
        if request.query_string:
            url += "?" + request.query_string.decode("latin-1")
        params = {k: v[0] if len(v) == 1 else v for k, v in request.form.lists()}
        return bool(self.validator.validate(url, params, signature))

    def metrics(self) -> Any:
        return Response(generate_latest(self.registry), mimetype=CONTENT_TYPE_LATEST)

    def healthz(self) -> Any:
        try:
            self.svc.redis.ping()
        except redis.RedisError:
            return jsonify(redis="unavailable"), 503
        return jsonify(redis="ok")

    def sms_inbound(self) -> Any:
        if not self.signed():
            log.warning("inbound rejected: bad or missing signature")
            return _error("invalid signature", 403)
        sender, body = request.form.get("From"), request.form.get("Body")
        if sender is None or body is None:
            return _error("From and Body are required", 400)
        try:
            phone = normalise_phone(sender)
        except InvalidInput:
            return _error("From is not a phone number", 400)
        try:
            reply = self.svc.inbound(datetime.now(UTC)).handle(phone, body)
        except InvalidInput as exc:  # e.g. forgotten by an operator while the text arrived
            log.warning("inbound not applied: %s", exc)
            reply = None
        return twiml(reply)

    def sms_status(self) -> Any:
        if not self.signed():
            log.warning("status rejected: bad or missing signature")
            return _error("invalid signature", 403)
        sid = request.form.get("MessageSid") or request.form.get("SmsSid") or ""
        status = request.form.get("MessageStatus") or request.form.get("SmsStatus") or ""
        if not sid or not status or len(sid) > 64 or len(status) > 32:
            return _error("MessageSid and MessageStatus are required", 400)
        error_code = (request.form.get("ErrorCode") or "")[:16]
        try:
            changed, subscriber_id = advance(self.svc.redis, sid, status, error_code)
        except UnknownMessage:
            return Response(status=204)  # not ours (or expired): acknowledge, change nothing
        if changed and error_code:
            self.svc.apply_provider_error(subscriber_id, error_code)
        return Response(status=204)


class EmailPages:
    """Unsubscribe (RFC 8058 one-click) and confirmation pages for email links.

    GET only shows a page with a button: mail scanners follow links, and a scanner must not
    unsubscribe or confirm anyone. POST does the change.
    """

    def __init__(self, svc: Services) -> None:
        self.svc = svc

    def _page(self, title: str, message: str, status: int = 200, button: str = "") -> Any:
        action = request.full_path.rstrip("?") if button else ""
        return render_template("page.html", title=title, message=message, button=button,
                               action=action, program_name=self.svc.settings.program_name
                               ), status

    def _address(self, purpose: str) -> str | None:
        try:
            return tokens.read_token(self.svc.settings.secret_key, purpose,
                                     request.args.get("token", ""))
        except tokens.BadToken:
            return None

    def unsubscribe(self) -> Any:
        address = self._address(tokens.UNSUBSCRIBE)
        if address is None:
            return self._page("Link not valid", "This unsubscribe link is not valid. Please "
                              "use the link from your most recent email.", 400)
        if request.method == "GET":
            return self._page("Stop these emails?", f"We will stop emailing {address}. "
                              "Your text messages, if any, are not affected.",
                              button="Unsubscribe")
        email_consent.unsubscribe(self.svc.store, address, datetime.now(UTC))
        return self._page("You are unsubscribed", f"No more emails will be sent to {address}.")

    def confirm(self) -> Any:
        address = self._address(tokens.CONFIRM_EMAIL)
        if address is None:
            return self._page("Link not valid", "This confirmation link is not valid.", 400)
        if request.method == "GET":
            return self._page("Confirm your emails", f"Send the evening foot-care routine to "
                              f"{address}?", button="Yes, send them")
        if email_consent.confirm(self.svc.store, address, datetime.now(UTC)) is None:
            return self._page("Nothing to confirm", "This address is not waiting for "
                              "confirmation (it may have been unsubscribed).", 404)
        return self._page("Confirmed", f"Your evening routine will be emailed to {address}.")


def create_app(svc: Services) -> Flask:
    svc.check_storage()  # however the app is started: refuse a Redis that could evict
    app = Flask("reminders", template_folder=str(svc.settings.templates_dir / "web"))
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024  # a webhook is a few hundred bytes
    hooks = Webhooks(svc)
    app.add_url_rule("/healthz", view_func=hooks.healthz, methods=["GET"])
    app.add_url_rule("/metrics", view_func=hooks.metrics, methods=["GET"])
    app.add_url_rule("/sms/inbound", view_func=hooks.sms_inbound, methods=["POST"])
    app.add_url_rule("/sms/status", view_func=hooks.sms_status, methods=["POST"])
    pages = EmailPages(svc)
    app.add_url_rule("/unsubscribe", view_func=pages.unsubscribe, methods=["GET", "POST"])
    app.add_url_rule("/email/confirm", view_func=pages.confirm, methods=["GET", "POST"])

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        return _error(exc.name, exc.code or 500)

    @app.errorhandler(redis.RedisError)
    def redis_down(exc: redis.RedisError) -> Any:
        # Twilio shows the sender nothing; the operator sees the log line and /healthz.
        log.error("redis unavailable on %s: %s", request.path, exc)
        return _error("storage unavailable", 503)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Any:
        # Logged with its traceback for us; the caller sees a clean body, never a traceback.
        log.exception("unhandled error on %s", request.path)
        return _error("internal error", 500)

    return app


def wsgi_app() -> Flask:
    """gunicorn entry point: `gunicorn 'reminders.web:wsgi_app()'`."""
    from reminders.services import build
    from reminders.settings import load_settings

    install()
    svc = build(load_settings())
    svc.check()
    return create_app(svc)
