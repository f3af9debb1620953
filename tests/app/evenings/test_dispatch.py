"""Send instants across daylight-saving changes, and the dispatcher that claims them."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import redis

from reminders.app.evenings.dispatch import Dispatcher
from reminders.app.people.preferences import Enrolment, enrol
from reminders.domain.schedule import next_send_after, send_instant, upcoming
from reminders.domain.subscriber import Subscriber
from reminders.storage import due_index, keys, nights
from reminders.storage.subscribers import Store
from reminders.wiring import Services
from testing.twilio_api import FakeTwilio
from tests.conftest import make_services, run_threads

NEW_YORK = ZoneInfo("America/New_York")
EASTER = ZoneInfo("Pacific/Easter")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_new_york_evening_stays_at_local_time_across_both_changes() -> None:
    # 2027-03-14 clocks go forward, 2027-11-07 back: 20:00 local moves by an hour in UTC.
    spring = upcoming(time(20, 0), NEW_YORK, utc(2027, 3, 12, 12), 4)
    assert [i.utc for i in spring] == [utc(2027, 3, 13, 1), utc(2027, 3, 14, 1),
                                      utc(2027, 3, 15, 0), utc(2027, 3, 16, 0)]
    assert all(i.local(NEW_YORK).time() == time(20, 0) for i in spring)
    autumn = upcoming(time(20, 0), NEW_YORK, utc(2027, 11, 5, 12), 4)
    assert [i.utc for i in autumn] == [utc(2027, 11, 6, 0), utc(2027, 11, 7, 0),
                                      utc(2027, 11, 8, 1), utc(2027, 11, 9, 1)]
    assert [i.local_date for i in autumn] == [date(2027, 11, 5) + timedelta(days=n)
                                             for n in range(4)]


def test_new_york_gap_and_repeat_follow_fold_zero() -> None:
    # Not an evening hour, but the same rule: 02:30 on the spring-forward date does not exist.
    assert send_instant(date(2027, 3, 14), time(2, 30), NEW_YORK) == utc(2027, 3, 14, 7, 30)
    # 01:30 on the fall-back date happens twice: the first (EDT) is the one.
    assert send_instant(date(2027, 11, 7), time(1, 30), NEW_YORK) == utc(2027, 11, 7, 5, 30)


def test_easter_island_changes_clocks_at_22_local() -> None:
    # 2026-09-05 22:00 -> 23:00 (gap): 22:30 is sent at the same offset past the gap, 23:30.
    gap = send_instant(date(2026, 9, 5), time(22, 30), EASTER)
    assert gap == utc(2026, 9, 6, 4, 30)
    assert gap.astimezone(EASTER).strftime("%H:%M%z") == "23:30-0500"
    # 2026-04-04 22:00 -> 21:00 (repeat): 21:30 happens twice and is sent at the first.
    first = send_instant(date(2026, 4, 4), time(21, 30), EASTER)
    assert first == utc(2026, 4, 5, 2, 30)
    nights_list = upcoming(time(21, 30), EASTER, utc(2026, 4, 3, 12), 3)
    assert [i.local_date for i in nights_list] == [date(2026, 4, 3), date(2026, 4, 4),
                                                   date(2026, 4, 5)]
    # After the first 21:30 of the 4th, the next is the 5th, not the second 21:30 of the 4th.
    assert next_send_after(time(21, 30), EASTER, first).local_date == date(2026, 4, 5)


def _enrol_at(svc: Services, phone: str, tz: str, at: str, now: datetime) -> str:
    sub = enrol(svc.store, svc.settings, Enrolment(phone=phone, timezone=tz, time=at,
                                                   confirmed=True), now)
    return sub.id


def test_dispatcher_sends_the_repeated_hour_once(base_env: dict[str, str]) -> None:
    # Easter Island repeats 21:00-22:00 local: a program whose SEND_WINDOW reaches past 21:00.
    svc = make_services({**base_env, "SEND_WINDOW": "16:00-23:00"})
    sub_id = _enrol_at(svc, "+13125550142", "Pacific/Easter", "21:30", utc(2026, 4, 4, 12))
    sent: list[tuple[str, date]] = []
    first = utc(2026, 4, 5, 2, 30)

    def collect(i: str, d: date) -> None:
        sent.append((i, d))
        # The (console) sender runs at once, as a worker would, and settles the evening.
        svc.sender.deliver(i, d, first + timedelta(seconds=6))

    dispatcher = Dispatcher(svc.store, timedelta(minutes=90))
    dispatcher.tick(first - timedelta(seconds=1), collect)
    assert sent == []
    dispatcher.tick(first + timedelta(seconds=5), collect)
    # An hour later the wall clock shows 21:30 again; nothing more is due.
    dispatcher.tick(first + timedelta(hours=1, seconds=5), collect)
    assert sent == [(sub_id, date(2026, 4, 4))]
    assert svc.store.next_due(sub_id) == utc(2026, 4, 6, 3, 30)  # now at -06:00
    assert svc.redis.zcard(keys.INFLIGHT) == 0


def test_an_evening_whose_task_was_lost_is_handed_out_again(console_services: Services) -> None:
    svc = console_services
    due = utc(2027, 1, 10, 2, 0)
    sub_id = _enrol_at(svc, "+13125550142", "America/Chicago", "20:00", due - timedelta(hours=1))
    handed: list[tuple[str, date]] = []
    dispatcher = Dispatcher(svc.store, timedelta(minutes=90), grace=timedelta(minutes=5))
    dispatcher.tick(due, lambda i, d: handed.append((i, d)))  # ... and the task is lost
    dispatcher.tick(due + timedelta(minutes=4), lambda i, d: handed.append((i, d)))
    assert handed == [(sub_id, date(2027, 1, 9))]
    dispatcher.tick(due + timedelta(minutes=6), lambda i, d: handed.append((i, d)))
    assert handed == [(sub_id, date(2027, 1, 9))] * 2
    # This time a worker runs it: settled, never handed out again.
    svc.sender.deliver(sub_id, date(2027, 1, 9), due + timedelta(minutes=6))
    dispatcher.tick(due + timedelta(minutes=20), lambda i, d: handed.append((i, d)))
    assert len(handed) == 2
    assert nights.read(svc.redis, sub_id, date(2027, 1, 9))["sms"] == "sent"


def test_two_dispatchers_at_once_claim_each_person_once(console_services: Services) -> None:
    svc = console_services
    now = utc(2027, 1, 10, 2, 0)  # 20:00 in Chicago
    ids = {_enrol_at(svc, f"+1312555{n:04d}", "America/Chicago", "20:00",
                     now - timedelta(hours=3)) for n in range(300)}
    sent: list[tuple[str, date]] = []
    lock = threading.Lock()

    def collect(i: str, d: date) -> None:
        with lock:
            sent.append((i, d))

    def run() -> None:
        Dispatcher(Store(redis.Redis.from_url(svc.settings.redis_url)), timedelta(minutes=90),
                   batch_size=7).tick(now, collect)

    run_threads([run] * 4)
    assert sorted(i for i, _ in sent) == sorted(ids)
    assert {d for _, d in sent} == {date(2027, 1, 9)}
    assert due_index.size(svc.redis) == 300 and svc.redis.zcard(keys.CLAIMS) == 0


def test_a_dispatcher_that_dies_mid_tick_drops_nobody(console_services: Services) -> None:
    svc = console_services
    now = utc(2027, 1, 10, 2, 0)
    sub_id = _enrol_at(svc, "+13125550142", "America/Chicago", "20:00", now - timedelta(hours=1))
    dying = Dispatcher(svc.store, timedelta(minutes=90))
    assert [i for i, _ in dying.claim(now)] == [sub_id]  # claimed, then the process "dies"
    assert due_index.next_due(svc.redis, sub_id) is None
    sent: list[tuple[str, date]] = []
    Dispatcher(svc.store, timedelta(minutes=90)).tick(now + timedelta(seconds=60), lambda i, d:
                                                      sent.append((i, d)))
    assert sent == []  # the lease is still running
    later = now + timedelta(minutes=6)
    Dispatcher(svc.store, timedelta(minutes=90)).tick(later, lambda i, d: sent.append((i, d)))
    assert sent == [(sub_id, date(2027, 1, 9))]
    assert svc.store.next_due(sub_id) == utc(2027, 1, 11, 2, 0)


def test_a_reminder_past_the_late_limit_is_recorded_missed(console_services: Services) -> None:
    svc = console_services
    due = utc(2027, 1, 10, 2, 0)
    sub_id = _enrol_at(svc, "+13125550142", "America/Chicago", "20:00", due - timedelta(hours=1))
    sent: list[tuple[str, date]] = []
    Dispatcher(svc.store, timedelta(minutes=90)).tick(due + timedelta(minutes=91),
                                                      lambda i, d: sent.append((i, d)))
    assert sent == []
    assert nights.read(svc.redis, sub_id, date(2027, 1, 9))["sms"] == "missed"
    assert svc.store.next_due(sub_id) == utc(2027, 1, 11, 2, 0)


PHONE = "+13125550142"
EVENING = date(2027, 1, 9)


def subscribe(svc: Services, phone: str = PHONE, **kw: object) -> Subscriber:
    request = Enrolment(**{"phone": phone, "timezone": "America/Chicago", "time": "20:00",
                           "confirmed": True, **kw})  # type: ignore[arg-type]
    return enrol(svc.store, svc.settings, request, datetime(2027, 1, 1, tzinfo=UTC))


def test_the_sweep_gives_up_on_an_evening_whose_task_keeps_vanishing(
    twilio_services: Services, fake_twilio: FakeTwilio,
) -> None:
    svc = twilio_services
    sub = subscribe(svc)
    due = send_instant(EVENING, sub.send_time, ZoneInfo(sub.timezone))
    member = keys.inflight_member(sub.id, EVENING)
    svc.redis.zadd(keys.INFLIGHT, {member: due.timestamp()})
    handed: list[str] = []
    dispatcher = svc.dispatcher
    late, grace = svc.sender.late_limit, dispatcher.grace
    now = due
    while now < due + 3 * late:  # every task handed out is lost before it runs
        now += grace + timedelta(seconds=1)
        dispatcher.tick(now, lambda sid, day: handed.append(f"{sid}:{day.isoformat()}"))
        if now < due + late:  # still sendable: never given up before its late limit
            assert svc.redis.zscore(keys.INFLIGHT, member) is not None
    assert set(handed) == {member}
    assert len(handed) <= late / grace + 2  # bounded: once per grace period, then no more
    assert svc.redis.zscore(keys.INFLIGHT, member) is None
    assert svc.redis.hget(keys.INFLIGHT_RESENDS, member) is None
    record = nights.read(svc.redis, sub.id, EVENING)
    assert record["sms"] == "missed" and record["sms_reason"] == "unfinished"
    assert fake_twilio.message_attempts() == []
