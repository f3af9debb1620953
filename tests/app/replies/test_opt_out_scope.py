"""OPT_OUT_SCOPE: with `sender` (the FCC's revoke-all rule, from 2027-01-31) one STOP ends every
kind of text to that number, caregiver texts included; with `program` (the default before that
date) a number that has texts of its own stops those, and its caregiver texts go on until CARE
OFF. The texts go through the same inbound handler as the webhook; what reaches the person and
the caregiver afterwards is asserted on what is sent.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from reminders.app.people.preferences import Enrolment, enrol
from reminders.domain.opt_out import scope
from reminders.domain.subscriber import Subscriber
from reminders.storage import caregivers
from reminders.wiring import Services
from testing.twilio_api import FakeTwilio
from tests.conftest import make_services

PERSON = "+13125550142"
CAREGIVER = "+13125550177"  # also gets their own evening texts
BEFORE = datetime(2027, 1, 30, 23, 59, tzinfo=UTC)
FROM = datetime(2027, 1, 31, 0, 0, tzinfo=UTC)


def test_the_default_follows_the_date_and_a_setting_wins() -> None:
    assert scope("", date(2027, 1, 30)) == "program"
    assert scope("", date(2027, 1, 31)) == "sender"
    assert scope("", date(2030, 6, 1)) == "sender"
    assert scope("sender", date(2026, 12, 7)) == "sender"
    assert scope("program", date(2028, 1, 1)) == "program"


def linked(svc: Services, now: datetime) -> Subscriber:
    """Ana, with Bob as her caregiver (both agreed); Bob has his own evening texts too."""
    ana = enrol(svc.store, svc.settings, Enrolment(phone=PERSON, name="Ana", confirmed=True,
                                                   timezone="America/Chicago", time="20:00"),
                now)
    enrol(svc.store, svc.settings, Enrolment(phone=CAREGIVER, name="Bob", confirmed=True,
                                             timezone="America/Chicago", time="20:00"), now)
    svc.caregivers(now).add(ana, CAREGIVER, "Bob")
    svc.inbound(now).handle(CAREGIVER, "YES")
    svc.inbound(now).handle(PERSON, "CARE YES")
    assert caregivers.read(svc.redis, ana.id).status == "active"  # type: ignore[union-attr]
    return ana


def alert_reaches_caregiver(svc: Services, ana: Subscriber, fake: FakeTwilio, now: datetime
                            ) -> bool:
    before = len([m for m in fake.messages if m.to == CAREGIVER])
    svc.care_sender.send(ana, f"alert:{int(now.timestamp())}", "same_day:wound", "alert", now)
    return len([m for m in fake.messages if m.to == CAREGIVER]) > before


@pytest.mark.parametrize("setting,now,reach", [
    ("", BEFORE, "program"), ("", FROM, "sender"),
    ("sender", BEFORE, "sender"), ("program", FROM, "program"),
])
def test_one_stop_ends_what_the_scope_says(twilio_env: dict[str, str], fake_twilio: FakeTwilio,
                                           setting: str, now: datetime, reach: str) -> None:
    env = {**twilio_env, "OPT_OUT_SCOPE": setting} if setting else twilio_env
    svc = make_services(env)
    svc.care_handoff = None
    ana = linked(svc, now)
    svc.inbound(now).handle(CAREGIVER, "stop please")
    assert svc.store.require(CAREGIVER).sms_status == "opted_out"  # their own texts: always
    assert svc.store.require(PERSON).sms_status == "active"
    link = caregivers.read(svc.redis, ana.id)
    assert link is not None
    if reach == "sender":
        assert link.status == "stopped"
        assert not alert_reaches_caregiver(svc, ana, fake_twilio, now)
    else:
        assert link.status == "active"
        assert alert_reaches_caregiver(svc, ana, fake_twilio, now)
        # With no texts of its own left, the next STOP can only mean the caregiver texts.
        svc.inbound(now).handle(CAREGIVER, "STOP")
        assert caregivers.read(svc.redis, ana.id).status == "stopped"  # type: ignore
        assert not alert_reaches_caregiver(svc, ana, fake_twilio, now)


@pytest.mark.parametrize("setting", ["program", "sender"])
def test_the_persons_stop_ends_texts_about_them_in_both_scopes(
        twilio_env: dict[str, str], fake_twilio: FakeTwilio, setting: str) -> None:
    svc = make_services({**twilio_env, "OPT_OUT_SCOPE": setting})
    svc.care_handoff = None
    ana = linked(svc, FROM)
    svc.inbound(FROM).handle(PERSON, "STOP")
    assert svc.store.require(PERSON).sms_status == "opted_out"
    assert not alert_reaches_caregiver(svc, ana, fake_twilio, FROM)
    assert svc.store.require(CAREGIVER).sms_status == "active"  # Bob's own texts go on
