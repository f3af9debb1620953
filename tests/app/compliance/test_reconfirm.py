"""The yearly re-confirmation: asked once a year (exactly once per person and year, whoever runs
it), 14 days to answer YES, no answer pauses the texts (never an opt-out) and leaves a review
item; YES keeps them or starts them again. Caregivers too. What is sent is read at the fake
Twilio API; YES goes through the same inbound handler as the webhook.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from reminders.app.people.preferences import Enrolment, enrol
from reminders.storage import caregivers, inbox, reconfirm
from reminders.wiring import Services
from testing.twilio_api import FakeTwilio
from tests.conftest import make_services, run_threads

PHONE = "+13125550142"
CAREGIVER = "+13125550177"
# Consent-log times are the Redis server's clock (stream ids): the year runs from now. DUE is
# 00:30 UTC a year and a day on: 18:30 or 19:30 in Chicago, inside the send window.
JOINED = datetime.now(UTC)
DUE = datetime.combine((JOINED + timedelta(days=367)).date(), time(0, 30), UTC)


def asks(fake: FakeTwilio, to: str = PHONE) -> list[str]:
    return [m.body for m in fake.messages if m.to == to and "within 14 days" in m.body]


def actions(svc: Services, phone: str = PHONE) -> list[str]:
    return [e["action"] for e in svc.store.consent_history(svc.store.require(phone).id)]


def joined(svc: Services, language: str = "en") -> None:
    enrol(svc.store, svc.settings, Enrolment(phone=PHONE, name="Ana Lopez", confirmed=True,
                                             timezone="America/Chicago", time="19:00",
                                             language=language), JOINED)


def test_asked_once_a_year_exactly_once_and_yes_keeps_the_texts(
        twilio_services: Services, fake_twilio: FakeTwilio) -> None:
    svc = twilio_services
    joined(svc)
    assert svc.reconfirmations.run(JOINED + timedelta(days=300)).asked == []
    # Due, but 4:00 in Chicago: nobody is texted outside their send window.
    assert svc.reconfirmations.run(DUE + timedelta(hours=9, minutes=30)).asked == []
    assert asks(fake_twilio) == []
    # Two runs at once (two cron hosts, a retried job): one text.
    run_threads([lambda: make_services(svc_env(svc)).reconfirmations.run(
        DUE + timedelta(days=1))] * 2)
    svc.reconfirmations.run(DUE + timedelta(days=1, hours=1))
    [ask] = asks(fake_twilio)
    assert ask.startswith("Foot Care Reminders: still want your nightly foot-care texts?")
    assert "Reply YES within 14 days" in ask and "STOP" in ask
    assert actions(svc).count("reconfirm_sent") == 1
    reply = svc.inbound(DUE + timedelta(days=3)).handle(PHONE, "yes")
    assert reply is not None and "Your texts continue" in reply
    assert actions(svc).count("reconfirmed") == 1
    assert svc.reconfirmations.run(DUE + timedelta(days=15)).paused == []
    assert svc.store.require(PHONE).paused_until is None
    # Not again within the year of that yes; asked again the year after.
    svc.reconfirmations.run(DUE + timedelta(days=200))
    assert len(asks(fake_twilio)) == 1
    svc.reconfirmations.run(DUE + timedelta(days=3 + 366))
    assert len(asks(fake_twilio)) == 2


def svc_env(svc: Services) -> dict[str, str]:
    """The environment a second process would have (the same settings)."""
    s = svc.settings
    return {"REDIS_URL": s.redis_url, "SMS_BACKEND": "twilio", "EMAIL_BACKEND": "console",
            "TWILIO_ACCOUNT_SID": s.twilio_account_sid, "TWILIO_AUTH_TOKEN": s.twilio_auth_token,
            "TWILIO_FROM_NUMBER": s.twilio_from_number, "TWILIO_API_URL": s.twilio_api_url,
            "TWILIO_MPS": "100", "SUPPORT_CONTACT": s.support_contact,
            "SECRET_KEY": s.secret_key, "OUTBOX_DIR": str(s.outbox_dir)}


def test_no_answer_pauses_without_an_opt_out_and_yes_restarts(
        twilio_services: Services, fake_twilio: FakeTwilio) -> None:
    svc = twilio_services
    joined(svc, language="es")
    svc.reconfirmations.run(DUE)
    [ask] = [m.body for m in fake_twilio.messages if m.to == PHONE]
    assert "Responda SI en 14 dias" in ask and "ALTO" in ask
    assert svc.reconfirmations.run(DUE + timedelta(days=13)).paused == []
    done = svc.reconfirmations.run(DUE + timedelta(days=14, minutes=1))
    sub = svc.store.require(PHONE)
    assert len(done.paused) == 1 and sub.paused_until == date(9999, 12, 31)
    assert sub.sms_status == "active" and "opted_out" not in actions(svc)
    assert not svc.store.is_suppressed_phone(PHONE)
    assert sub.is_paused_on(date(2030, 1, 1))  # every evening until they answer
    [item] = [i for _id, i in inbox.read(svc.redis) if i.category == "reconfirm_no_answer"]
    assert item.subscriber == sub.id and item.phone == PHONE
    assert svc.reconfirmations.run(DUE + timedelta(days=20)).paused == []  # once
    reply = svc.inbound(DUE + timedelta(days=30)).handle(PHONE, "SI")
    assert reply is not None and "vuelven a empezar" in reply
    assert svc.store.require(PHONE).paused_until is None
    assert actions(svc)[-1] == "reconfirmed"


def test_caregivers_are_asked_too_and_silence_only_pauses_them(
        twilio_env: dict[str, str], fake_twilio: FakeTwilio) -> None:
    svc = make_services({**twilio_env, "OPT_OUT_SCOPE": "sender"})
    svc.care_handoff = None
    joined(svc)
    ana = svc.store.require(PHONE)
    svc.caregivers(JOINED).add(ana, CAREGIVER, "Bob")
    svc.inbound(JOINED).handle(PHONE, "CARE YES")
    svc.inbound(JOINED).handle(CAREGIVER, "YES")
    assert caregivers.read(svc.redis, ana.id).active  # type: ignore[union-attr]
    svc.reconfirmations.run(DUE)
    [ask] = asks(fake_twilio, CAREGIVER)
    assert "caregiver texts about Ana" in ask
    # Silence: the caregiver texts pause (back to waiting for their YES), nothing is stopped.
    svc.reconfirmations.run(DUE + timedelta(days=15))
    link = caregivers.read(svc.redis, ana.id)
    assert link is not None and not link.active and link.caregiver == caregivers.OFF
    assert not svc.store.is_suppressed_phone(CAREGIVER)
    sent = svc.care_sender.send(ana, "alert:1", "a test alert", "alert", DUE + timedelta(days=15))
    assert sent == "inactive"
    # YES brings them back, and the caregiver is not enrolled as a subscriber by it.
    svc.inbound(DUE + timedelta(days=16)).handle(CAREGIVER, "YES")
    assert caregivers.read(svc.redis, ana.id).active  # type: ignore[union-attr]
    assert svc.store.find(CAREGIVER) is None
    history = [e["action"] for e in svc.store.consent_history(ana.id)]
    assert "caregiver_reconfirmed" in history and "caregiver_stopped" not in history


def test_an_active_caregiver_answers_in_time(twilio_env: dict[str, str],
                                             fake_twilio: FakeTwilio) -> None:
    svc = make_services(twilio_env)
    joined(svc)
    ana = svc.store.require(PHONE)
    svc.caregivers(JOINED).add(ana, CAREGIVER, "Bob")
    svc.inbound(JOINED).handle(PHONE, "CARE YES")
    svc.inbound(JOINED).handle(CAREGIVER, "YES")
    svc.reconfirmations.run(DUE)
    reply = svc.inbound(DUE + timedelta(days=2)).handle(CAREGIVER, "YES")
    assert reply is not None and "keep getting Ana's weekly summary" in reply
    assert svc.store.find(CAREGIVER) is None
    svc.reconfirmations.run(DUE + timedelta(days=15))
    assert caregivers.read(svc.redis, ana.id).active  # type: ignore[union-attr]


def test_a_stop_while_waiting_is_not_paused_or_reviewed(twilio_services: Services,
                                                        fake_twilio: FakeTwilio) -> None:
    svc = twilio_services
    joined(svc)
    svc.reconfirmations.run(DUE)
    svc.inbound(DUE + timedelta(days=1)).handle(PHONE, "STOP")
    assert svc.reconfirmations.run(DUE + timedelta(days=15)).paused == []
    assert svc.store.require(PHONE).paused_until is None
    assert not [i for _id, i in inbox.read(svc.redis) if i.category == "reconfirm_no_answer"]


def test_a_number_the_provider_refuses_for_good_is_not_asked_again(
        twilio_services: Services, fake_twilio: FakeTwilio) -> None:
    svc = twilio_services
    joined(svc)
    fake_twilio.fail_next(1, http_status=503)  # a passing failure: asked on the next run
    assert svc.reconfirmations.run(DUE).problems
    assert len(svc.reconfirmations.run(DUE + timedelta(hours=1)).asked) == 1
    other = "+13125550199"
    enrol(svc.store, svc.settings, Enrolment(phone=other, confirmed=True,
                                             timezone="America/Chicago"), JOINED)
    fake_twilio.reject_number(other, 21211)
    assert svc.reconfirmations.run(DUE).problems
    assert svc.reconfirmations.run(DUE + timedelta(days=1)).asked == []
    assert svc.reconfirmations.run(DUE + timedelta(days=15)).paused == [
        svc.store.require(PHONE).id]  # the one that was asked and did not answer


def test_the_beat_runs_it_hourly_and_two_runs_at_once_pause_once(
        twilio_services: Services, fake_twilio: FakeTwilio) -> None:
    from celery.schedules import crontab

    from reminders.entry.celery.app import app

    entry = app.conf.beat_schedule["reconfirm"]
    # hourly: an ask goes out only inside the person's evening window, in every time zone
    assert entry["task"] == "reminders.reconfirm" and entry["task"] in app.tasks
    assert entry["schedule"] == crontab(minute="7")
    svc = twilio_services
    joined(svc)
    # The beat's run and an operator's `reminders reconfirm` at the same moment: one text...
    run_threads([lambda: make_services(svc_env(svc)).reconfirmations.run(DUE)] * 2)
    assert len(asks(fake_twilio)) == 1
    # ...and, 14 days on, one pause and one review item.
    later = DUE + timedelta(days=14, minutes=1)
    paused: list[str] = []
    run_threads([lambda: paused.extend(make_services(svc_env(svc)).reconfirmations.run(
        later).paused)] * 2)
    assert len(paused) == 1, paused
    items = [i for _id, i in inbox.read(svc.redis) if i.category == "reconfirm_no_answer"]
    assert len(items) == 1 and actions(svc).count("reconfirm_no_answer") == 1
    # What makes it once: the move asked -> paused is claimed, so a run that read "asked"
    # before another paused gets nothing to do (threads rarely land in that gap; this does).
    person = svc.store.require(PHONE).id
    assert reconfirm.read(svc.redis, DUE.year, person) == ("paused", int(later.timestamp()))
    assert not reconfirm.settle(svc.redis, DUE.year, person, "paused", later.timestamp(),
                                from_state="asked")
