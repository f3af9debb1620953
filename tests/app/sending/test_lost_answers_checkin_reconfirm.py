"""The silence check-in and the yearly re-confirmation survive an answer lost after Twilio
accepted the text: each is sent once, found at Twilio by the next attempt rather than sent again
(they used to have a claim of their own and no look-up), and the text's status callback lands
on its own send record. The fake Twilio API accepts the message at once and answers after the
client (TWILIO_TIMEOUT_SECONDS=2) gave up. In process: a real Redis, the real twilio-python
client over HTTP to the fake, signed status callbacks through the web app.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from reminders.app.care.silence import CheckinRetry
from reminders.storage import codec, counters, keys_care, sends
from reminders.wiring import Services
from testing.twilio_api import DEFAULT_AUTH_TOKEN, FakeTwilio
from tests.app.care.test_silence import CHECKIN, PHONE, Evenings, silent_person, status
from tests.app.compliance.test_reconfirm import DUE, asks, joined
from tests.app.sending.test_lost_answers_per_kind import Clock, creations
from tests.webhook_client import PUBLIC_URL, WebhookClient, serve


@pytest.fixture
def silent(twilio_env: dict[str, str]) -> Services:
    return silent_person(twilio_env)


def test_a_check_in_accepted_after_the_clients_timeout_is_sent_once(
        silent: Services, fake_twilio: FakeTwilio) -> None:
    svc = silent
    handed: list[tuple[str, str]] = []
    with serve(svc) as base:
        # the status callback hands the check-in over (as to the Celery task); sent below
        svc.care_handoff = svc.review_handoff = None
        svc.checkin_handoff = lambda sid, evening: handed.append((sid, evening))
        web = WebhookClient(base, PUBLIC_URL, DEFAULT_AUTH_TOKEN)
        evenings = Evenings(svc, fake_twilio, web, 3)
        for day in evenings.days:
            evenings.send(day)
        sub = svc.store.require(PHONE)
        assert handed == [(sub.id, evenings.days[-1].isoformat())]
        fake_twilio.clear()
        clock = Clock(fake_twilio, datetime.now(UTC))
        fake_twilio.answer_late_next(1, seconds=3)  # accepted at once, answered after 2 s
        with pytest.raises(CheckinRetry, match="timeout"):
            svc.silence.send_checkin(sub.id, evenings.days[-1], clock.now)
        [queued] = fake_twilio.messages
        assert queued.to == PHONE and CHECKIN in queued.body

        # The task's retry finds it at Twilio: recorded, not sent again; a third says so.
        assert svc.silence.send_checkin(sub.id, evenings.days[-1], clock.advance(20)) == "sent"
        assert svc.silence.send_checkin(sub.id, evenings.days[-1],
                                        clock.advance(20)) == "skipped"  # none due now
        assert creations(fake_twilio) == 1 and len(fake_twilio.messages_to(PHONE)) == 1
        figures = counters.read_all(svc.redis)
        assert sum(int(v) for k, v in figures.items()
                   if k.startswith("loop:checkin_sent")) == 1

        # Its status callback names only the SID: it lands on the check-in's own record.
        assert status(web, queued.sid, "delivered").status_code == 204
    fields = [codec.text(k) for k in svc.redis.hkeys(keys_care.sends(sub.id))]
    [field] = [f for f in fields if f.startswith("checkin:") and "_" not in f]
    record = sends.read(svc.redis, sub.id, field)
    assert (record["state"], record["id"], record["status"]) == ("sent", queued.sid,
                                                                  "delivered")


def test_a_reconfirmation_accepted_after_the_clients_timeout_is_asked_once(
        twilio_services: Services, fake_twilio: FakeTwilio) -> None:
    svc = twilio_services
    joined(svc)
    sub = svc.store.require(PHONE)
    clock = Clock(fake_twilio, DUE + timedelta(days=1))
    fake_twilio.answer_late_next(1, seconds=3)
    first = svc.reconfirmations.run(clock.now)
    assert first.asked == [] and any("timeout" in p for p in first.problems)
    [queued] = fake_twilio.messages
    assert queued.to == PHONE and "Reply YES within 14 days" in queued.body

    # The next run goes on with the unfinished ask: found at Twilio, not sent again.
    assert svc.reconfirmations.run(clock.advance(20)).asked == [sub.id]
    assert svc.reconfirmations.run(clock.advance(3600)).asked == []
    assert creations(fake_twilio) == 1 and len(asks(fake_twilio)) == 1
    history = [e["action"] for e in svc.store.consent_history(sub.id)]
    assert history.count("reconfirm_sent") == 1

    # Its status callback lands on the re-confirmation's own record; nobody is paused early.
    with serve(svc) as base:
        web = WebhookClient(base, PUBLIC_URL, DEFAULT_AUTH_TOKEN)
        answer = web.post("/sms/status", {
            "MessageSid": queued.sid, "MessageStatus": "delivered",
            "AccountSid": svc.settings.twilio_account_sid, "To": PHONE})
        assert answer.status_code == 204
    record = sends.read(svc.redis, sub.id, f"reconfirm:{clock.now.year}")
    assert (record["state"], record["id"], record["status"]) == ("sent", queued.sid,
                                                                  "delivered")
    assert svc.reconfirmations.run(clock.advance(86400)).paused == []
