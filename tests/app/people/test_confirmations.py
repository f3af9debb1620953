"""The double opt-in text is the `confirmation` kind on the one send path: each request is
recorded with Twilio's id, so the text's status callback lands on its own record (it used to be
a message nobody knew); a number Twilio refuses is reported to whoever asked and leaves the
person pending (their consent is theirs to give); each request is a new message. Through the
real twilio-python client to the fake Twilio API and Twilio's signed callbacks.
"""

from __future__ import annotations

from reminders.app.people.forget import forget
from reminders.app.people.preferences import Enrolment, enrol
from reminders.storage import codec, keys, keys_care, sends
from reminders.wiring import Services
from testing.twilio_api import DEFAULT_AUTH_TOKEN, FakeTwilio
from tests.webhook_client import PUBLIC_URL, WebhookClient, serve

PHONE = "+13125550142"


def records(svc: Services, subscriber_id: str) -> dict[str, dict[str, str]]:
    fields = [codec.text(k) for k in svc.redis.hkeys(keys_care.sends(subscriber_id))]
    return {f: sends.read(svc.redis, subscriber_id, f) for f in fields
            if f.startswith("confirmation:") and "_" not in f}


def test_a_confirmation_texts_status_lands_on_its_own_record(
        twilio_services: Services, fake_twilio: FakeTwilio) -> None:
    svc = twilio_services
    sub = enrol(svc.store, svc.settings, Enrolment(phone=PHONE, name="Ana Ruiz",
                                                  timezone="America/Chicago", time="20:00"))
    assert svc.confirmations.text(sub)
    [sent] = fake_twilio.messages_to(PHONE)
    assert "YES" in sent.body
    with serve(svc) as base:
        web = WebhookClient(base, PUBLIC_URL, DEFAULT_AUTH_TOKEN)
        answer = web.post("/sms/status", {
            "MessageSid": sent.sid, "MessageStatus": "delivered",
            "AccountSid": svc.settings.twilio_account_sid, "To": PHONE})
        assert answer.status_code == 204
    [record] = records(svc, sub.id).values()
    assert (record["state"], record["id"], record["status"]) == ("sent", sent.sid, "delivered")
    # Asked again (an operator's resend): a new request, a second text and record.
    assert svc.confirmations.text(sub)
    assert len(fake_twilio.messages_to(PHONE)) == 2 and len(records(svc, sub.id)) == 2
    # `forget` erases the records and their ids' index entries.
    forget(svc.store, sub)
    assert not svc.redis.exists(keys_care.sends(sub.id))
    assert not any(svc.redis.exists(keys.message_index(m.sid))
                   for m in fake_twilio.messages_to(PHONE))


def test_a_refused_number_is_reported_and_the_person_stays_pending(
        twilio_services: Services, fake_twilio: FakeTwilio) -> None:
    svc = twilio_services
    sub = enrol(svc.store, svc.settings, Enrolment(phone=PHONE, name="Ana Ruiz",
                                                  timezone="America/Chicago", time="20:00"))
    fake_twilio.reject_number(PHONE, 21211)
    asked = svc.confirmations.text(sub)
    assert not asked and asked.problem.startswith("the confirmation text could not be sent")
    assert fake_twilio.messages_to(PHONE) == []
    after = svc.store.get(sub.id)
    assert after is not None and after.sms_status == "pending"
    [record] = records(svc, sub.id).values()
    assert record["state"] == "failed" and record["error"]
