"""The fake Twilio's Calls resource: calls placed with inline TwiML, listed by To and start
time, signed status callbacks, and a keypad sequence played into the Gather action URL.

Part of testing/twilio_api.py's FakeTwilio (`fake.calls`); creations share its faults
(fail_next, hang_next, answer_late_next, hold_next), latency and concurrency limit. A call is
`queued` with no start_time until the test answers it (`answer`, `press`, `machine`) or ends
it (`finish`), as Twilio shows a call that has not been picked up yet.
"""

from __future__ import annotations

import threading
import urllib.error
import urllib.parse
import urllib.request
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from testing.twilio_api import (
    API_VERSION,
    _as_utc,
    _error_reply,
    _Incoming,
    _not_found,
    _Reply,
    _rfc2822,
    _utcnow,
    signed_webhook,
)

if TYPE_CHECKING:
    from testing.twilio_api import FakeTwilio

@dataclass
class PlacedCall:
    sid: str
    to: str
    from_: str
    twiml: str  # what the call is running now (the created TwiML, an update, a Gather answer)
    status_callback: str | None
    amd_callback: str | None
    created_at: datetime
    form: dict[str, str]
    status: str = "queued"
    start_time: datetime | None = None
    end_time: datetime | None = None
    answers: list[str] = field(default_factory=list)  # TwiML our webhooks answered, in order

    def said(self) -> list[str]:
        """Every <Say> of the current TwiML, in order (inside a Gather too)."""
        return [el.text or "" for el in ET.fromstring(self.twiml).iter("Say")]

    def gather_action(self) -> str | None:
        gather = ET.fromstring(self.twiml).find(".//Gather")
        return None if gather is None else gather.get("action")


class Calls:
    def __init__(self, fake: FakeTwilio) -> None:
        self.fake = fake
        self._lock = threading.Lock()
        self.placed: list[PlacedCall] = []
        # (public, real): webhooks are signed for the public URL the service gave Twilio and
        # posted to where the app really listens, as a proxy in front of it would.
        self.proxy: tuple[str, str] | None = None

    # -- what tests read and do ---------------------------------------------------------------

    def to(self, number: str) -> list[PlacedCall]:
        with self._lock:
            return [c for c in self.placed if c.to == number]

    def answer(self, sid: str) -> PlacedCall:
        """The person picks up: the call is in progress, with its start time."""
        call = self._get(sid)
        with self._lock:
            if call.start_time is None:
                call.start_time = _as_utc(self.fake.clock())
            call.status = "in-progress"
        return call

    def press(self, sid: str, *keys: str) -> list[str]:
        """Answer the call and press each key in turn into the current Gather's action (signed,
        as Twilio posts it); each answer becomes the call's TwiML. Returns the answers."""
        call = self.answer(sid)
        answers = []
        for digits in keys:
            action = call.gather_action()
            if action is None:
                raise AssertionError(f"no <Gather> to press {digits!r} into: {call.twiml}")
            status, text = self._post(action, self._params(call, Digits=digits))
            if status != 200:
                raise AssertionError(f"Gather action answered {status}: {text}")
            with self._lock:
                call.twiml = text
                call.answers.append(text)
            answers.append(text)
        return answers

    def machine(self, sid: str, answered_by: str = "machine_end_beep") -> int:
        """Asynchronous AMD's verdict posted to the call's AMD callback (signed)."""
        call = self.answer(sid)
        assert call.amd_callback is not None
        return self._post(call.amd_callback, self._params(call, AnsweredBy=answered_by))[0]

    def finish(self, sid: str, status: str = "completed") -> int:
        """The call ends (completed, busy, no-answer, failed, canceled): its signed status
        callback is posted; returns our webhook's HTTP status (0: no callback asked)."""
        call = self._get(sid)
        with self._lock:
            call.status = status
            call.end_time = _as_utc(self.fake.clock())
        if not call.status_callback:
            return 0
        return self._post(call.status_callback, self._params(call, CallStatus=status))[0]

    # -- the REST resource ---------------------------------------------------------------------

    def route(self, req: _Incoming, resource: str) -> _Reply:
        if resource == "Calls.json":
            if req.method == "POST":
                return self.fake._create_message(req, self._accept)
            if req.method == "GET":
                return self._list(req)
            return _error_reply(405, 20004)
        sid = resource.removeprefix("Calls/").removesuffix(".json")
        call = next((c for c in self.placed if c.sid == sid), None)
        if call is None or "/" in sid:
            return _not_found(req.path)
        if req.method == "POST" and req.form.get("Twiml"):  # an update: the live call's TwiML
            with self._lock:
                call.twiml = req.form["Twiml"]
        return _Reply(200, self._resource(call))

    def _accept(self, req: _Incoming) -> _Reply:
        form = req.form
        to, twiml = form.get("To", "").strip(), form.get("Twiml", "")
        if not to:
            return _error_reply(400, 21201, "No 'To' number is specified")
        if not twiml and not form.get("Url"):
            return _error_reply(400, 21205, "Url or Twiml is required")
        try:
            ET.fromstring(twiml)
        except ET.ParseError:
            return _error_reply(400, 13608, "Twiml is not valid XML")
        with self.fake._cond:
            rejection = self.fake._rejections.get(to)
        if rejection is not None:
            return _error_reply(400, rejection[0], rejection[1], fault="reject")
        call = PlacedCall(
            sid="CA" + uuid.uuid4().hex, to=to, from_=form.get("From", ""), twiml=twiml,
            status_callback=form.get("StatusCallback") or None,
            amd_callback=form.get("AsyncAmdStatusCallback") or None,
            created_at=_as_utc(self.fake.clock()), form=form)
        with self._lock:
            self.placed.append(call)
        return _Reply(201, self._resource(call))

    def _list(self, req: _Incoming) -> _Reply:
        to = req.query.get("To")
        after = req.query.get("StartTime>")
        with self._lock:
            matched = [c for c in reversed(self.placed) if (to is None or c.to == to)
                       and (after is None or (c.start_time is not None
                                              and c.start_time.isoformat() >= after))]
        page_size = int(req.query.get("PageSize") or 50)
        items = [self._resource(c) for c in matched[:page_size]]
        base = f"/{API_VERSION}/Accounts/{self.fake.account_sid}/Calls.json"
        uri = f"{base}?{urllib.parse.urlencode(req.query)}"
        return _Reply(200, {"calls": items, "first_page_uri": uri, "next_page_uri": None,
                            "previous_page_uri": None, "page": 0, "page_size": page_size,
                            "start": 0, "end": max(len(items) - 1, 0), "uri": uri})

    def _resource(self, call: PlacedCall) -> dict[str, Any]:
        return {
            "sid": call.sid, "account_sid": self.fake.account_sid, "api_version": API_VERSION,
            "to": call.to, "from": call.from_, "status": call.status,
            "direction": "outbound-api", "answered_by": None,
            "date_created": _rfc2822(call.created_at),
            "date_updated": _rfc2822(_utcnow()),
            "start_time": _rfc2822(call.start_time) if call.start_time else None,
            "end_time": _rfc2822(call.end_time) if call.end_time else None,
            "uri": f"/{API_VERSION}/Accounts/{self.fake.account_sid}/Calls/{call.sid}.json",
        }

    def _params(self, call: PlacedCall, **extra: str) -> dict[str, str]:
        return {"AccountSid": self.fake.account_sid, "CallSid": call.sid, "To": call.to,
                "From": call.from_, "Direction": "outbound-api", "CallStatus": call.status,
                **extra}

    def _post(self, url: str, params: dict[str, str]) -> tuple[int, str]:
        signed_url, data, headers = signed_webhook(url, params, self.fake.auth_token)
        target = signed_url
        if self.proxy is not None and signed_url.startswith(self.proxy[0]):
            target = self.proxy[1] + signed_url[len(self.proxy[0]):]
        request = urllib.request.Request(target, data=data, method="POST", headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode("utf-8", "replace")

    def _get(self, sid: str) -> PlacedCall:
        with self._lock:
            for call in self.placed:
                if call.sid == sid:
                    return call
        raise KeyError(sid)
