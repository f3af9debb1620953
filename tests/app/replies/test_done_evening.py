"""DONE (and a score) belongs to an evening: the one before when it comes just after midnight,
as people text it when they go to bed. Asserted on the evening's record in Redis and on the
streak the reply reports."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from reminders.app.people.preferences import Enrolment, enrol
from reminders.storage import nights
from reminders.wiring import Services

PHONE = "+13125550142"
CHICAGO = ZoneInfo("America/Chicago")


def local(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=CHICAGO)


def test_done_just_after_midnight_counts_for_the_evening_before(
        console_services: Services) -> None:
    svc = console_services
    sub = enrol(svc.store, svc.settings, Enrolment(phone=PHONE, timezone="America/Chicago",
                                                   time="20:00", confirmed=True),
                local(2027, 1, 1, 12))
    first = svc.inbound(local(2027, 1, 8, 21, 15)).handle(PHONE, "DONE")
    # The evening of the 9th, answered at 00:40 on the 10th: still the 9th, a second evening.
    second = svc.inbound(local(2027, 1, 10, 0, 40)).handle(PHONE, "done")
    assert nights.read(svc.redis, sub.id, date(2027, 1, 8)).get("done") == "1"
    assert nights.read(svc.redis, sub.id, date(2027, 1, 9)).get("done") == "1"
    assert nights.read(svc.redis, sub.id, date(2027, 1, 10)).get("done") is None
    after = svc.store.require(PHONE)
    assert after.last_done == date(2027, 1, 9) and after.streak == 2
    assert first is not None and second is not None and "2" in second and second != first


def test_done_in_the_morning_counts_for_that_day(console_services: Services) -> None:
    svc = console_services
    sub = enrol(svc.store, svc.settings, Enrolment(phone=PHONE, timezone="America/Chicago",
                                                   time="20:00", confirmed=True),
                local(2027, 1, 1, 12))
    svc.inbound(local(2027, 1, 10, 9, 0)).handle(PHONE, "DONE")
    assert nights.read(svc.redis, sub.id, date(2027, 1, 10)).get("done") == "1"
    assert nights.read(svc.redis, sub.id, date(2027, 1, 9)).get("done") is None
