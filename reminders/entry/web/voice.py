"""The evening call's webhooks: the keys pressed (the Gather action), the call's status (a
second call after busy / no answer: app/voice/redial.py) and the answering-machine verdict.

Signed like every Twilio webhook (twilio_auth.py); the person and the evening are in the
action URL's query, which the signature covers, and the call's To must be their number. A key
or status already handled (Twilio's retry, a replay) gets the same answer and changes nothing.
Unreadable input is a 400, never a 500; these are POST-only routes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import Flask, Response, jsonify, request

from reminders.app.voice.redial import UnknownMessage, on_status
from reminders.domain.validation import InvalidInput
from reminders.entry.web.twilio_auth import Refused, WebhookAuth
from reminders.storage import replay
from reminders.wiring import Services

log = logging.getLogger(__name__)

SEND_TASK = "reminders.send_reminder"  # defined in entry/celery/app.py
STEPS = ("menu", "score")
# Gathers in one call (9 says it all again): far more than anyone presses.
MAX_ROUNDS = 50
# What Twilio's AnsweredBy says when a machine (or a fax) picked up.
MACHINE = ("machine_start", "machine_end_beep", "machine_end_silence", "machine_end_other",
           "fax")


def _twiml(body: str) -> Response:
    return Response(body, status=200, mimetype="text/xml")


class VoiceHooks:
    def __init__(self, svc: Services, auth: WebhookAuth) -> None:
        self.svc = svc
        self.auth = auth

    def _ours(self, fields: dict[str, str]) -> None:
        sid = self.svc.settings.twilio_account_sid
        if "AccountSid" not in fields:
            raise Refused(400, "AccountSid is required")
        if sid and fields["AccountSid"] != sid:
            raise Refused(403, "not our Twilio account")

    def gather(self) -> Any:
        fields = self.auth.fields(request)
        self._ours(fields)
        call_sid, digits = fields.get("CallSid", ""), fields.get("Digits", "")
        step, who, day, round_ = (request.args.get(name, "") for name in ("step", "s", "d", "n"))
        if (step not in STEPS or not call_sid or len(call_sid) > 64 or len(digits) > 8
                or not round_.isdigit() or int(round_) > MAX_ROUNDS):
            return jsonify(error="CallSid, Digits, a known step and round are required"), 400
        try:
            local_date = date.fromisoformat(day)
        except ValueError:
            return jsonify(error="d is not a date"), 400
        sub = self.svc.store.get(who) if who.isdigit() else None
        if sub is None or sub.phone is None or fields.get("To") != sub.phone:
            raise Refused(403, "not a call to this person")
        key = f"{call_sid}:{step}:{round_}"
        seen = replay.claim_text(self.svc.redis, sub.phone, key)
        if seen.state != "new":
            return _twiml(seen.reply or self.svc.voice_scripts.closing(sub.language, "goodbye"))
        try:
            answer = self.svc.voice_keys.pressed(sub, local_date, step, int(round_), digits,
                                                 datetime.now(UTC))
        except Exception:
            replay.release_text(self.svc.redis, sub.phone, key)  # Twilio's retry handles it
            raise
        replay.remember_reply(self.svc.redis, sub.phone, key, answer)
        return _twiml(answer)

    def status(self) -> Any:
        """The call's outcome: recorded; busy, no answer or failed may get a second call."""
        fields = self.auth.fields(request)
        self._ours(fields)
        sid, status = fields.get("CallSid", ""), fields.get("CallStatus", "")
        if not sid or len(sid) > 64 or not status or len(status) > 32:
            return jsonify(error="CallSid and CallStatus are required"), 400
        if not replay.claim_status(self.svc.redis, sid, status):
            return Response(status=204)  # Twilio's retry, or a replay: already applied
        s = self.svc.settings
        try:
            redial = on_status(self.svc.store, sid, status.lower(),
                               timedelta(minutes=s.late_limit_minutes),
                               timedelta(minutes=s.voice_retry_minutes), datetime.now(UTC))
        except UnknownMessage:
            return Response(status=204)  # not ours, or expired: acknowledge, change nothing
        except Exception:
            replay.release_status(self.svc.redis, sid, status)
            raise
        if redial is not None and self.svc.redial_handoff is not None:
            self.svc.redial_handoff(redial.subscriber_id, redial.local_date.isoformat(),
                                    redial.at)
        return Response(status=204)

    def machine(self) -> Any:
        """Asynchronous AMD's verdict: a machine gets the short message, no keypad."""
        fields = self.auth.fields(request)
        self._ours(fields)
        call_sid, answered_by = fields.get("CallSid", ""), fields.get("AnsweredBy", "")
        if not call_sid or len(call_sid) > 64 or len(answered_by) > 32:
            return jsonify(error="CallSid and AnsweredBy are required"), 400
        if answered_by in MACHINE:
            try:
                sub = self.svc.store.find(fields.get("To", ""))
            except InvalidInput:
                sub = None
            language = sub.language if sub is not None else "en"
            self.svc.voice.update(call_sid, self.svc.voice_scripts.machine(language))
            log.info("voice machine call=%s: short message", call_sid)
        return Response(status=204)


def celery_redial(svc: Services) -> Callable[[str, str, datetime], None]:
    """The evening's second call as a task (reminders.send_reminder) due at its time, on this
    app's own broker settings; the night record holds any earlier attempt back anyway."""
    from celery import Celery

    from reminders.entry.celery.app import broker_url_for, transport_options_for

    producer = Celery("reminders-web-voice", broker=broker_url_for(svc.settings))
    producer.conf.broker_transport_options = transport_options_for(svc.settings)

    def hand_off(subscriber_id: str, local_date: str, at: datetime) -> None:
        producer.send_task(SEND_TASK, args=(subscriber_id, local_date), eta=at)

    return hand_off


def install(app: Flask, svc: Services, auth: WebhookAuth) -> None:
    if svc.redial_handoff is None:
        svc.redial_handoff = celery_redial(svc)
    hooks = VoiceHooks(svc, auth)
    app.add_url_rule("/voice/status", view_func=hooks.status, methods=["POST"])
    app.add_url_rule("/voice/gather", view_func=hooks.gather, methods=["POST"])
    app.add_url_rule("/voice/amd", view_func=hooks.machine, methods=["POST"])
