"""Evening calls through Twilio's Calls API (twilio-python), errors sorted as for texts.

A call is `calls.create` with the TwiML inline (messages/voice.py builds it), a signed status
callback for its outcome (busy, no-answer, failed, completed) and answering-machine detection
in the background (a machine gets the short message: entry/web/voice.py). It shares the SMS
transport's HTTP client (timeout, TWILIO_API_URL) and its error sorting: a call's answer means
the same to the send path as a text's (DeliveryError flags).

After a lost answer the call is looked up in the Calls list by To and start time, before any
second call: one person gets one call an evening, so a call to them since the evening's first
attempt (give or take the clocks) is tonight's. The start time is compared here, not by a
StartTime> filter: a call still queued or ringing has no start_time yet, and Twilio's filter
would hide exactly the call a lost answer leaves behind (as DateSent does for texts).
"""

from __future__ import annotations

from datetime import datetime

import requests
from twilio.base.exceptions import TwilioException
from twilio.rest import Client

from reminders.channels.base import Envelope, Receipt, SlotMissed
from reminders.channels.twilio_sms import CLOCK_SKEW, TwilioSms

__all__ = ["SlotMissed", "TwilioVoice"]

# One call an evening per person: a short page of their newest calls is enough.
LOOKUP_LIMIT = 20
# Statuses posted to the status callback: the outcome, not every ring.
CALL_EVENTS = ["completed"]


class TwilioVoice:
    """The voice channel's Transport (deliver, find_sent)."""

    def __init__(self, sms: TwilioSms, status_callback: str, amd_callback: str) -> None:
        self.http = sms.http  # one connection pool and error sorting for both channels
        self.client: Client = sms.client
        self.from_number = sms.from_number
        self.status_callback = status_callback
        self.amd_callback = amd_callback
        self._classify = sms._classify

    def deliver(self, envelope: Envelope) -> Receipt:
        """Place the call; `envelope.body` is its TwiML."""
        self.http.set_send_by(envelope.send_by)
        try:
            call = self.client.calls.create(
                to=envelope.to, from_=self.from_number, twiml=envelope.body,
                status_callback=self.status_callback, status_callback_event=CALL_EVENTS,
                status_callback_method="POST", machine_detection="Enable", async_amd="true",
                async_amd_status_callback=self.amd_callback,
                async_amd_status_callback_method="POST")
        except (TwilioException, requests.RequestException) as exc:
            raise self._classify(exc) from exc
        finally:
            self.http.set_send_by(None)
        return Receipt(str(call.sid), str(call.status or "queued"), 1)

    def find_sent(self, to: str, since: datetime, body: str) -> Receipt | None:
        """Tonight's call to `to`, if Twilio lists one started since about `since`."""
        del body  # a call's TwiML is not listed; one call an evening tells it apart
        earliest = since - CLOCK_SKEW
        try:
            calls = self.client.calls.list(to=to, limit=LOOKUP_LIMIT)
        except (TwilioException, requests.RequestException) as exc:
            raise self._classify(exc) from exc
        for call in calls:
            started = call.start_time or call.date_created
            if started is not None and started >= earliest:
                return Receipt(str(call.sid), str(call.status), 1)
        return None

    def update(self, sid: str, twiml: str) -> None:
        """Replace a live call's TwiML (an answering machine: the short message)."""
        try:
            self.client.calls(sid).update(twiml=twiml)
        except (TwilioException, requests.RequestException) as exc:
            raise self._classify(exc) from exc
