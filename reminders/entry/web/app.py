"""The Flask adapter: signed Twilio webhooks, email link pages, health. It parses HTTP only.

A webhook is answered only when it is signed (entry/web/twilio_auth.py), for our Twilio account
and, for texts, to our number; a bad or missing signature, another account or another number
is a 403 and changes nothing; unreadable input is a 400; never a 500. Texts come only from
E.164 numbers (not `whatsapp:`, `tel:` or `;ext=` addresses). A webhook already handled (Twilio
retries, or someone replays a captured request) gets the same answer and changes nothing
(storage/replay.py). GET and HEAD never change state: every state change is a POST view.
Link tokens are masked in the access logs (werkzeug's and gunicorn's).
"""

from __future__ import annotations

import hmac
import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from flask import Flask, Response, jsonify, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from twilio.twiml.messaging_response import MessagingResponse
from werkzeug.exceptions import HTTPException

from reminders.app.sending.delivery_status import UnknownMessage, advance, target_of
from reminders.channels.twilio_sms import recipient_problem, unreachable_handset
from reminders.domain.keywords import Kind, parse
from reminders.domain.kinds import NIGHTLY
from reminders.domain.validation import InvalidInput, normalise_phone
from reminders.entry.web import care_handoffs, console, voice
from reminders.entry.web.email_pages import EmailPages
from reminders.entry.web.metrics import RedisCollector
from reminders.entry.web.twilio_auth import Refused, WebhookAuth
from reminders.entry.web.twilio_fields import message_sid
from reminders.logs import install, mask
from reminders.storage import circuit, replay
from reminders.storage.client import RedisError
from reminders.wiring import Services

log = logging.getLogger(__name__)

# Texts whose SIDs the replay memory keeps long (storage/replay.py): whatever changes consent.
CONSENT_KINDS = frozenset({Kind.STOP, Kind.START, Kind.JOIN, Kind.CARE, Kind.EMAIL, Kind.WEEKLY})
CARE_ALERT_TASK = "reminders.send_care_alert"  # defined in entry/celery/app.py
E164 = re.compile(r"\+[1-9][0-9]{6,14}")
_TOKEN_IN_URL = re.compile(r"(token=)[^&\s\"']+")
# A URL's separators end an address in an access line: `/`, `?`, `=` and `&` may be in a local
# part, so "/console/people?q=ana@…" would be masked whole, path and all.
_URL_SEPARATORS = re.compile(r"([/?=&])")


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
        s = svc.settings
        self.auth = WebhookAuth(s.public_url, s.twilio_auth_token,
                                dict(s.twilio_webhook_shared_keys))
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(RedisCollector(svc.store))

    def _ours(self, fields: dict[str, str], to_us: bool) -> None:
        """Our account, and (a text) our number: else 403, whatever the signature says."""
        s = self.svc.settings
        if "AccountSid" not in fields:
            raise Refused(400, "AccountSid is required")
        if s.twilio_account_sid and fields["AccountSid"] != s.twilio_account_sid:
            raise Refused(403, "not our Twilio account")
        # With a Messaging Service, Twilio picks any number of its pool: any To is ours.
        if (to_us and s.twilio_from_number and not s.twilio_messaging_service_sid
                and fields.get("To") != s.twilio_from_number):
            raise Refused(403, "not our number")

    def metrics(self) -> Any:
        token = self.svc.settings.metrics_token
        given = request.headers.get("Authorization", "")
        if token and not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return Response("metrics need Authorization: Bearer <METRICS_TOKEN>\n", status=401,
                            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
                            mimetype="text/plain")
        return Response(generate_latest(self.registry), mimetype=CONTENT_TYPE_LATEST)

    def healthz(self) -> Any:
        try:
            self.svc.redis.ping()
            refused = circuit.failing(self.svc.redis)
        except RedisError:
            return jsonify(redis="unavailable"), 503
        if refused is not None:  # Twilio refuses our account: no text goes out (circuit.py)
            return jsonify(redis="ok", sms=refused), 503
        return jsonify(redis="ok")

    def sms_inbound(self) -> Any:
        fields = self.auth.fields(request)
        sender, body = fields.get("From"), fields.get("Body")
        if sender is None or body is None:
            return _error("From and Body are required", 400)
        sid = message_sid(fields)
        self._ours(fields, to_us=True)
        if not E164.fullmatch(sender):
            return _error("From is not an E.164 phone number", 400)
        try:
            phone = normalise_phone(sender)
        except InvalidInput:
            return _error("From is not a phone number", 400)
        seen = replay.claim_text(self.svc.redis, phone, sid)
        if seen.state != "new":
            log.info("inbound repeat sid=%s (%s): answered as before", sid, seen.state)
            return twiml(seen.reply)
        before = self._consent_state(phone)
        try:
            reply = self.svc.inbound(datetime.now(UTC)).handle(phone, body)
        except InvalidInput as exc:  # e.g. forgotten by an operator while the text arrived
            log.warning("inbound not applied: %s", exc)
            reply = None
        except Exception:
            replay.release_text(self.svc.redis, phone, sid)  # Twilio's retry will handle it
            raise
        if parse(body).kind in CONSENT_KINDS or self._consent_state(phone) != before:
            replay.remember_consent(self.svc.redis, phone, sid)
        replay.remember_reply(self.svc.redis, phone, sid, reply)
        return twiml(reply)

    def _consent_state(self, phone: str) -> tuple[str, str] | None:
        sub = self.svc.store.find(phone)
        return (sub.sms_status, sub.email_status) if sub else None

    def sms_status(self) -> Any:
        fields = self.auth.fields(request)
        sid = message_sid(fields)
        status = fields.get("MessageStatus") or fields.get("SmsStatus") or ""
        if not status or len(status) > 32:
            return _error("MessageSid and MessageStatus are required", 400)
        self._ours(fields, to_us=False)
        error_code = (fields.get("ErrorCode") or "")[:16]
        if not replay.claim_status(self.svc.redis, sid, status):
            log.info("status repeat sid=%s status=%s: ignored", sid, status)
            return Response(status=204)
        try:
            changed, subscriber_id = advance(self.svc.store, sid, status, error_code)
        except UnknownMessage:
            replay.release_status(self.svc.redis, sid, status)
            return Response(status=204)  # not ours (or expired): acknowledge, change nothing
        except Exception:
            replay.release_status(self.svc.redis, sid, status)  # not applied: a retry may
            raise
        if changed and error_code and subscriber_id:  # "" : a caregiver's text
            # Twilio's codes are the SMS channel's to read (a status is only ever about SMS).
            self.svc.apply_recipient_problem(subscriber_id, recipient_problem(error_code),
                                             error_code)
        if changed:
            self._care_loop(sid, status.lower(), error_code)
        return Response(status=204)

    def _care_loop(self, sid: str, status: str, error_code: str) -> None:
        """Silence check-ins and the unreachable list (app/care/silence.py): the status itself is
        recorded already, so a fault here is logged, never the callback's 500."""
        subscriber_id = ""
        try:
            target = target_of(self.svc.store, sid)
            if target.day is None or target.field != NIGHTLY.record_field("sms"):
                return  # the silence check counts the evening's own text only
            subscriber_id, evening = target.subscriber_id, target.day
            self.svc.after_status(subscriber_id, evening, status,
                                  error_code if unreachable_handset(error_code) else "")
        except Exception:
            log.exception("care loop after status subscriber=%s", subscriber_id)


class TokenMask(logging.Filter):
    """Access-log lines show `token=***` instead of the link token (it opens the email pages),
    and phone numbers and addresses masked as every other log line (logs.mask), also when
    they came percent-encoded in a URL (a console search: `?q=%2B1312...`, `ana%40...`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError, KeyError):
            return True
        masked = "".join(mask(part) for part in _URL_SEPARATORS.split(
            _TOKEN_IN_URL.sub(r"\1***", unquote(message))))
        if masked != message:
            record.msg, record.args = masked, None
        return True


def mask_access_logs() -> None:
    # Logger filters (not handler filters): they hold whatever handlers the servers install.
    for name in ("werkzeug", "gunicorn.access", "gunicorn.error"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, TokenMask) for f in logger.filters):
            logger.addFilter(TokenMask())


def care_handoff(svc: Services) -> Callable[[str, str, str], None]:
    """A caregiver's alert goes to a worker (task reminders.send_care_alert): the webhook
    answers Twilio at once, whatever the provider's latency. The task is published on this
    app's own broker settings (not a process-wide Celery config). If the broker refuses it,
    the alert is sent here rather than lost."""
    from kombu.exceptions import OperationalError

    from reminders.entry.celery.app import producer_for

    # The worker's broker (CELERY_BROKER_URL or REDIS_URL; Redis, Sentinel or RabbitMQ).
    producer = producer_for(svc.settings)

    def hand_off(subscriber_id: str, key: str, words: str) -> None:
        try:
            producer.send_task(CARE_ALERT_TASK, args=(subscriber_id, key, words))
        except OperationalError as exc:
            log.error("caregiver alert not handed to a worker (%s): sending it here", exc)
            svc.send_care_alert(subscriber_id, key, words)

    return hand_off


def create_app(svc: Services) -> Flask:
    svc.check_storage()  # however the app is started: refuse a Redis that could evict
    if svc.care_handoff is None:
        svc.care_handoff = care_handoff(svc)
    care_handoffs.install(svc)  # escalations and check-ins to a worker, like caregiver alerts
    app = Flask("reminders", template_folder=str(svc.settings.templates_dir / "web"))
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024  # a webhook is a few hundred bytes
    mask_access_logs()
    hooks = Webhooks(svc)
    app.add_url_rule("/healthz", view_func=hooks.healthz, methods=["GET"])
    app.add_url_rule("/metrics", view_func=hooks.metrics, methods=["GET"])
    app.add_url_rule("/sms/inbound", view_func=hooks.sms_inbound, methods=["POST"])
    app.add_url_rule("/sms/status", view_func=hooks.sms_status, methods=["POST"])
    pages = EmailPages(svc)
    for path, page, action in (("/unsubscribe", pages.unsubscribe_page, pages.unsubscribe),
                               ("/email/confirm", pages.confirm_page, pages.confirm)):
        app.add_url_rule(path, endpoint=page.__name__, view_func=page, methods=["GET"])
        app.add_url_rule(path, endpoint=action.__name__, view_func=action, methods=["POST"])

    console.install(app, svc)
    voice.install(app, svc, hooks.auth)

    @app.errorhandler(Refused)
    def refused(exc: Refused) -> Any:
        if exc.status == 403:
            log.warning("webhook refused on %s: %s", request.path, exc.message)
        return _error(exc.message, exc.status)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        return _error(exc.name, exc.code or 500)

    @app.errorhandler(RedisError)
    def redis_down(exc: RedisError) -> Any:
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
    from reminders.settings import load_settings
    from reminders.wiring import build

    install()
    svc = build(load_settings())
    svc.check()
    return create_app(svc)
