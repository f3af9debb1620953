"""STOP from someone who has not confirmed yet (double opt-in pending) is an opt-out like any
other: recorded in the consent log and out of the due index.
Asserted on Redis (record, consent log, due index) and on what reaches the fake Twilio API."""

from __future__ import annotations

from datetime import UTC, datetime

from reminders.app.people.preferences import Enrolment, enrol
from reminders.storage import keys
from reminders.wiring import Services
from testing.twilio_api import FakeTwilio

PHONE = "+13125550142"


def in_due_index(svc: Services, subscriber_id: str) -> bool:
    return (svc.redis.zscore(keys.due_shard(subscriber_id), subscriber_id) is not None
            or svc.redis.zscore(keys.DUE, subscriber_id) is not None)


def test_stop_before_confirming_is_recorded_and_honoured(twilio_services: Services,
                                                          fake_twilio: FakeTwilio) -> None:
    svc = twilio_services
    now = datetime.now(UTC)
    sub = enrol(svc.store, svc.settings, Enrolment(phone=PHONE, timezone="America/Chicago",
                                                   time="20:00"), now)
    assert svc.store.require(PHONE).sms_status == "pending"
    fake_twilio.clear()  # the confirmation request
    svc.inbound(now).handle(PHONE, "STOP")
    assert svc.store.require(PHONE).sms_status == "opted_out"
    events = svc.store.consent_history(sub.id)
    assert [e["action"] for e in events if e["channel"] == "sms"][-1] == "opted_out"
    assert events[-1]["words"].lower() == "stop"
    assert not in_due_index(svc, sub.id)
    # Nothing more is sent to them: not tonight's text, not a reminder to confirm.
    assert fake_twilio.message_attempts() == []
