"""The capacity forecast (`reminders capacity`, the dispatcher's check, /metrics): people due at
chosen minutes in a real Redis, numbers checked against hand-computed queues.

The hand computation used throughout: TWILIO_MPS=0.1 (one segment every 10 s), 2 segments per
person, late limit 5 min; 12 people due at 20:00, 10 at 20:01, 1 at 20:30 (Chicago, UTC-6 in
January, so 02:00, 02:01 and 02:30 UTC):
- 20:00: 24 segments = 240 s; the 12th person starts after 11 x 20 s = 220 s -> 02:03:40 UTC
  (delay 220 s); the budget is free again at 02:04:00.
- 20:01: waits until 02:04:00; 20 segments; the 10th starts after 9 x 20 s = 180 s ->
  02:07:00 UTC, 360 s after 02:01: past the 300 s limit -> at risk.
- 20:30: the queue is empty by then: sent at once, delay 0.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, date, datetime, timedelta

import pytest
import redis

from reminders.app.evenings import capacity
from reminders.app.people.preferences import Enrolment, enrol
from reminders.domain.capacity import MinuteDemand, drain
from reminders.domain.validation import InvalidInput
from reminders.entry.web.app import create_app
from reminders.storage import due_index, inflight
from reminders.wiring import Services
from tests.conftest import Cli, make_services

ZONE = "America/Chicago"
NOW = datetime(2027, 1, 15, 1, 30, tzinfo=UTC)  # 19:30 in Chicago, Jan 14
LIMITS = capacity.Limits(mps=0.1, segments_per_person=2, late_limit_minutes=5, zone=ZONE)


def utc(hour: int, minute: int, second: int = 0, day: int = 15) -> datetime:
    return datetime(2027, 1, day, hour, minute, second, tzinfo=UTC)


def enrol_at(svc: Services, local_time: str, count: int, first: int) -> None:
    for n in range(first, first + count):
        enrol(svc.store, svc.settings, Enrolment(phone=f"+1312555{n:04d}", timezone=ZONE,
                                                 time=local_time, confirmed=True), now=NOW)


@pytest.fixture
def evening(console_services: Services) -> Services:
    """12 people at 20:00, 10 at 20:01, 1 at 20:30 Chicago time, enrolled at NOW."""
    enrol_at(console_services, "20:00", 12, 100)
    enrol_at(console_services, "20:01", 10, 200)
    enrol_at(console_services, "20:30", 1, 300)
    return console_services


def rows(result: capacity.Forecast) -> list[tuple[datetime, int, int, datetime, float, bool]]:
    return [(m.minute_utc, m.people, m.segments, m.last_out_utc, m.delay_seconds, m.at_risk)
            for m in result.minutes]


EXPECTED = [
    (utc(2, 0), 12, 24, utc(2, 3, 40), 220.0, False),
    (utc(2, 1), 10, 20, utc(2, 7, 0), 360.0, True),
    (utc(2, 30), 1, 2, utc(2, 30), 0.0, False),
]


def test_the_queue_carries_over_from_minute_to_minute() -> None:
    demand = [MinuteDemand(utc(2, 30), 1, 2), MinuteDemand(utc(2, 0), 12, 24),
              MinuteDemand(utc(2, 1), 10, 20), MinuteDemand(utc(2, 5), 0, 0)]
    result = drain(demand, mps=0.1, late_limit_minutes=5)
    assert rows(result) == EXPECTED
    assert result.at_risk and result.worst is not None and result.worst.minute_utc == utc(2, 1)
    # Twice the rate: 20:00 done by 02:01:50 (last starts at 02:01:50), 20:01 from 02:02:00.
    fast = drain(demand, mps=0.2, late_limit_minutes=5)
    assert [(m.last_out_utc, m.delay_seconds) for m in fast.minutes] == [
        (utc(2, 1, 50), 110.0), (utc(2, 3, 30), 150.0), (utc(2, 30), 0.0)]
    assert not fast.at_risk


def test_forecast_counts_the_people_due_in_each_minute(evening: Services) -> None:
    result = capacity.forecast(evening.store, LIMITS, None, NOW)
    assert rows(result) == EXPECTED
    assert (result.at_risk, result.mps, result.late_limit_minutes) == (True, 0.1, 5)
    assert (result.people, result.segments) == (23, 46)


def test_the_backlog_counts_in_the_first_minute(evening: Services) -> None:
    # Two evenings handed to senders and not finished, and one person overdue and unclaimed.
    inflight.mark(evening.redis, [("a", date(2027, 1, 14)), ("b", date(2027, 1, 14))],
                  NOW.timestamp())
    with evening.redis.pipeline() as pipe:
        due_index.schedule_in(pipe, "late", utc(1, 10).timestamp())
        pipe.execute()
    result = capacity.forecast(evening.store, LIMITS, None, NOW + timedelta(seconds=20))
    first = result.minutes[0]
    # 3 people x 2 segments from 01:30: the last starts 40 s in; the queue is empty by 02:00.
    assert (first.minute_utc, first.people, first.segments, first.last_out_utc) == (
        utc(1, 30), 3, 6, utc(1, 30, 40))
    assert rows(result)[1:] == EXPECTED


def test_a_date_places_people_at_their_time_of_day_on_that_evening(evening: Services) -> None:
    # The evening of Jan 20 in Chicago: the window starts at noon there (18:00 UTC).
    result = capacity.forecast(evening.store, LIMITS, date(2027, 1, 20), NOW)
    assert rows(result) == [(minute.replace(day=21), *rest)
                            for (minute, *rest) in [
                                (utc(2, 0), 12, 24, utc(2, 3, 40, day=21), 220.0, False),
                                (utc(2, 1), 10, 20, utc(2, 7, 0, day=21), 360.0, True),
                                (utc(2, 30), 1, 2, utc(2, 30, day=21), 0.0, False)]]
    with pytest.raises(InvalidInput, match="in the past"):
        capacity.forecast(evening.store, LIMITS, date(2027, 1, 13), NOW)


def test_cli_json_and_table(base_env: dict[str, str], redis_client: redis.Redis) -> None:
    # The command reads the real clock: people due 2 hours from now, at two chosen minutes.
    start = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(hours=2)
    with redis_client.pipeline() as pipe:
        for n in range(12):
            due_index.schedule_in(pipe, f"a{n}", start.timestamp())
        for n in range(10):
            due_index.schedule_in(pipe, f"b{n}", start.timestamp() + 60 + n)  # within 1 min
        pipe.execute()
    cli = Cli({**base_env, "TWILIO_MPS": "0.1", "LATE_LIMIT_MINUTES": "5",
               "SMS_MAX_SEGMENTS": "2", "DEFAULT_TIMEZONE": ZONE})
    done = cli("capacity", "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    z = "%Y-%m-%dT%H:%M:%SZ"
    assert data["minutes"] == [
        {"minute_utc": f"{start:{z}}", "people": 12, "segments": 24,
         "last_out_utc": f"{start + timedelta(seconds=220):{z}}", "delay_seconds": 220.0,
         "at_risk": False},
        {"minute_utc": f"{start + timedelta(minutes=1):{z}}", "people": 10, "segments": 20,
         "last_out_utc": f"{start + timedelta(seconds=420):{z}}", "delay_seconds": 360.0,
         "at_risk": True}]
    assert (data["at_risk"], data["mps"], data["late_limit_minutes"], data["people"],
            data["segments"], data["segments_per_person"]) == (True, 0.1, 5, 22, 44, 2)
    table = cli("capacity")
    assert table.returncode == 0, table.stderr
    assert "AT RISK" in table.stdout and table.stderr == ""
    assert f"{start:%Y-%m-%d %H:%M}" in table.stdout and "6.0 min" in table.stdout
    tomorrow = cli("capacity", "--date", f"{start + timedelta(days=1):%Y-%m-%d}", "--json")
    assert tomorrow.returncode == 0 and json.loads(tomorrow.stdout)["people"] == 22


@pytest.mark.parametrize("value,message", [
    ("2027-13-01", "is not a date"), ("tonight", "is not a date"), ("", "is not a date"),
    ("2001-01-01", "in the past")])
def test_cli_bad_date_exits_2_with_one_line(cli: Cli, value: str, message: str) -> None:
    done = cli("capacity", "--date", value)
    assert done.returncode == 2
    assert done.stdout == "" and len(done.stderr.splitlines()) == 1
    assert message in done.stderr and "Traceback" not in done.stderr


def test_empty_schedule_is_not_at_risk(cli: Cli) -> None:
    done = cli("capacity", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["minutes"] == []
    assert "nobody due" in cli("capacity").stdout


def metric(svc: Services, name: str) -> str:
    body = create_app(svc).test_client().get("/metrics").get_data(as_text=True)
    return next(line for line in body.splitlines() if line.startswith(name + " "))


def test_dispatcher_warns_and_metrics_show_the_risk_once_per_period(
        base_env: dict[str, str], caplog: pytest.LogCaptureFixture) -> None:
    svc = make_services({**base_env, "TWILIO_MPS": "0.1", "LATE_LIMIT_MINUTES": "5",
                         "DEFAULT_TIMEZONE": ZONE})
    assert metric(svc, "reminders_capacity_at_risk") == "reminders_capacity_at_risk 0.0"
    enrol_at(svc, "20:00", 12, 100)
    enrol_at(svc, "20:01", 10, 200)
    sent: list[str] = []
    with caplog.at_level(logging.WARNING, logger="reminders.app.evenings.capacity"):
        svc.dispatcher.tick(NOW, lambda sid, day: sent.append(sid))
        svc.dispatcher.tick(NOW + timedelta(minutes=1), lambda sid, day: sent.append(sid))
        # Another process's dispatcher (beat on another machine): Redis says it is not its turn.
        other = make_services({**base_env, "TWILIO_MPS": "0.1", "LATE_LIMIT_MINUTES": "5"})
        other.dispatcher.tick(NOW + timedelta(minutes=2), lambda sid, day: sent.append(sid))
    assert sent == []  # nobody due yet: the check looks ahead
    warnings = [r.getMessage() for r in caplog.records if "capacity at_risk" in r.getMessage()]
    assert len(warnings) == 1, warnings  # the other ticks are within the check period
    assert "people=10 first_late_minute=2027-01-15T02:01Z" in warnings[0]
    assert "worst_delay_min=6 late_limit_min=5 mps=0.1" in warnings[0]
    assert metric(svc, "reminders_capacity_at_risk") == "reminders_capacity_at_risk 1.0"
    assert metric(svc, "reminders_capacity_worst_delay_seconds") == (
        "reminders_capacity_worst_delay_seconds 360.0")


def test_enough_capacity_is_not_at_risk(base_env: dict[str, str]) -> None:
    svc = make_services({**base_env, "TWILIO_MPS": "1", "LATE_LIMIT_MINUTES": "5"})
    enrol_at(svc, "20:00", 12, 100)
    svc.dispatcher.tick(NOW, lambda sid, day: None)
    assert metric(svc, "reminders_capacity_at_risk") == "reminders_capacity_at_risk 0.0"
    # 24 segments at 1/s: the 12th person starts 22 s after 02:00.
    assert metric(svc, "reminders_capacity_worst_delay_seconds") == (
        "reminders_capacity_worst_delay_seconds 22.0")


def test_carrier_limits_put_tonight_at_risk(evening: Services) -> None:
    """46 segments in the next 24 hours, half on each carrier: T-Mobile's 23 are over a daily
    cap of 20; AT&T's half at 0.05 segments/s: 20:00 has 6 people, 12 segments, the last out
    after 10 x 20 s = 200 s (02:03:20), free at 02:04:00; 20:01's 5 people, 10 segments, wait
    until 02:04:00 and the last starts 8 x 20 s later, 02:06:40: 340 s after 02:01, past the
    300 s limit. TWILIO_MPS=100 alone would send everyone at once."""
    mix = (("tmobile", 0.5), ("att", 0.5))
    fast = capacity.Limits(mps=100, segments_per_person=2, late_limit_minutes=5, zone=ZONE,
                           carrier_mix=mix)
    plain = capacity.forecast(evening.store, fast, None, NOW)
    assert not plain.at_risk
    assert [(c.carrier, c.segments, c.at_risk) for c in plain.carriers] == [
        ("tmobile", 23, False), ("att", 23, False)]
    limited = capacity.Limits(mps=100, segments_per_person=2, late_limit_minutes=5, zone=ZONE,
                              carrier_mix=mix, carrier_daily_caps=(("tmobile", 20),),
                              carrier_mps=(("att", 0.05),))
    result = capacity.forecast(evening.store, limited, None, NOW)
    tmobile, att = result.carriers
    assert result.at_risk and not any(m.at_risk for m in result.minutes)
    assert (tmobile.over_cap, tmobile.late, tmobile.daily_cap) == (True, False, 20)
    assert (att.over_cap, att.late, att.worst_delay_seconds) == (False, True, 340.0)


def test_carrier_settings_from_the_environment(base_env: dict[str, str]) -> None:
    from reminders.settings import ConfigError, load_settings

    settings = load_settings({**base_env, "CARRIER_DAILY_CAPS": "TMobile=2000",
                              "CARRIER_MPS": "att=4.5", "CARRIER_MIX": "tmobile=0.6,att=0.4"},
                             dotenv=False)
    assert settings.carrier_daily_caps == (("tmobile", 2000.0),)
    assert settings.carrier_mps == (("att", 4.5),)
    assert settings.carrier_mix == (("tmobile", 0.6), ("att", 0.4))
    for name, value, says in (("CARRIER_DAILY_CAPS", "tmobile", "CARRIER=NUMBER"),
                              ("CARRIER_MPS", "att=-1", "above 0"),
                              ("CARRIER_MPS", "att=nan", "above 0"),
                              ("CARRIER_MIX", "att=0.7,tmobile=0.6", "more than 1"),
                              ("CARRIER_DAILY_CAPS", "att=1,att=2", "twice")):
        with pytest.raises(ConfigError, match=says) as raised:
            load_settings({**base_env, name: value}, dotenv=False)
        assert name in str(raised.value)
