"""Fault injection for the weekly text and the caregiver alert: Redis crashing mid-wave and
losing its last second (appendfsync everysec, as docker-compose.yml runs it; the crash is
test_faults_redis.py's AofRedis), and a caregiver text whose record such a crash took.

A caregiver text's claim (storage/caregivers.py) detects a Redis that started within the text's
attempt window (an alert's: from its report on; a weekly text's: the summary evening's), as a
night's claim does: it is looked up at the provider once before it is sent again.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
import redis

from reminders.domain.weekly import week_key
from reminders.storage import caregivers, keys, nights
from testing.twilio_api import FakeTwilio
from tests.conftest import Speed, make_services, wait_until
from tests.faults.test_faults import Starter, fault_env
from tests.faults.test_faults_kinds import (
    ALERT,
    PEOPLE,
    SUMMARY,
    activate_caregivers,
    count_drift,
    enrol_many,
    line,
    raise_alerts,
    settle_and_count,
    summary_evening,
)
from tests.faults.test_faults_redis import (
    LOST_SECONDS,
    AofRedis,
    _recovered_lookups,
    _supervisor,
    aof_redis,
)

pytestmark = pytest.mark.faults
__all__ = ["aof_redis"]  # the fixture, used by name



def _lost(server: AofRedis, fake: FakeTwilio, body_start: str, after: int) -> tuple[int,
                                                                                  datetime]:
    """Once `after` such texts went out, crash Redis losing its last second; (bytes, when)."""
    wait_until(lambda: sum(m.body.startswith(body_start) for m in fake.messages) >= after, 60,
               f"the first {after} texts")
    crashed_at = datetime.now(UTC)
    lost = server.crash()
    assert lost > 0  # the scenario really lost writes (claims and records of the last second)
    return lost, crashed_at


@pytest.mark.parametrize("aof_redis", ["everysec"], indirect=True)
def test_redis_crash_mid_caregiver_alerts(twilio_env: dict[str, str], fake_twilio: FakeTwilio,
                                          aof_redis: AofRedis, start_worker: Starter,
                                          start_beat: Starter) -> None:
    env = fault_env(twilio_env, REDIS_URL=aof_redis.url, TWILIO_MPS="10")
    svc = make_services(env)
    ids = enrol_many(svc, PEOPLE, "America/Chicago", "20:00", datetime.now(UTC))
    carers = activate_caregivers(svc, ids)
    workers = [start_worker(env, concurrency=2, name="w1")]
    tick = _supervisor(env, workers, [start_beat(env)], start_worker, start_beat,
                       Speed("small", fake_twilio))
    alert_keys = raise_alerts(svc, ids)
    # Past the hand-off's last second (the crash must not take the queued alerts themselves).
    lost, crashed_at = _lost(aof_redis, fake_twilio, ALERT, 20)
    per_phone, recovered, watched = settle_and_count(fake_twilio, carers, ALERT, crashed_at,
                                                     tick)
    misses = sum(caregivers.text_state(svc.redis, sid, key) != "sent"
                 for sid, key in zip(ids, alert_keys, strict=True))
    drift = count_drift(svc)
    line("redis-crash-mid-caregiver-alert/small", per_phone, PEOPLE, misses, recovered,
         watched, f"count_drift={len(drift)} lost_last={LOST_SECONDS:.0f}s({lost}B of AOF) "
         f"recovered_lookups={_recovered_lookups(workers)}")
    assert sorted(per_phone) == sorted(carers) and set(per_phone.values()) == {1}
    assert misses == 0 and drift == {}


@pytest.mark.parametrize("aof_redis", ["everysec"], indirect=True)
def test_redis_crash_mid_weekly_texts(twilio_env: dict[str, str], fake_twilio: FakeTwilio,
                                      aof_redis: AofRedis, start_worker: Starter,
                                      start_beat: Starter) -> None:
    evening, env, before, ids = summary_evening(
        fault_env(twilio_env, REDIS_URL=aof_redis.url, TWILIO_MPS="10"), fake_twilio)
    carers = activate_caregivers(before, ids)
    phones = [f"+1312555{n:04d}" for n in range(PEOPLE)]
    workers = [start_worker(env, concurrency=2, name="w1")]
    tick = _supervisor(env, workers, [start_beat(env)], start_worker, start_beat,
                       Speed("small", fake_twilio))
    lost, crashed_at = _lost(aof_redis, fake_twilio, SUMMARY, 12)
    # The person's summary and their caregiver's copy: every text the wave sent, by number.
    per_phone, recovered, watched = settle_and_count(fake_twilio, phones + carers, "",
                                                     crashed_at, tick)
    week = f"week:{week_key(evening)}"
    states = [state for sid in ids for state in (
        nights.read(before.redis, sid, evening).get("weekly", ""),
        caregivers.text_state(before.redis, sid, week))]
    # A miss: a text that never went out (nobody's is missing at the provider: per_phone),
    # or was given up on. A record the crash took after its text went out took the evening's
    # settle with it (settled after the summary: nightly.py): the dispatcher hands the evening
    # out again and the claim looks the text up at the provider. None stays lost.
    misses = states.count("missed") + (PEOPLE * 2 - len(per_phone))
    lost_records = sum(state in ("", "sending") for state in states)
    drift = count_drift(before)
    line("redis-crash-mid-weekly-and-caregiver-weekly/small", per_phone, PEOPLE, misses,
         recovered, watched,
         f"count_drift={len(drift)} lost_last={LOST_SECONDS:.0f}s({lost}B of AOF) "
         f"recovered_lookups={_recovered_lookups(workers)} records_lost={lost_records}")
    assert sorted(per_phone) == sorted(phones + carers) and set(per_phone.values()) == {1}
    assert misses == 0 and drift == {}
    assert set(states) == {"sent"} and lost_records == 0, states


@pytest.mark.parametrize("aof_redis", ["always"], indirect=True)
def test_a_caregiver_alert_lost_with_a_restart_is_looked_up_not_resent(
    twilio_env: dict[str, str], fake_twilio: FakeTwilio, aof_redis: AofRedis,
) -> None:
    svc = make_services({**twilio_env, "REDIS_URL": aof_redis.url})
    [sid] = enrol_many(svc, 1, "America/Chicago", "20:00", datetime.now(UTC))
    [carer] = activate_caregivers(svc, [sid])
    key = f"alert:{int(time.time() * 1000)}"
    assert svc.send_care_alert(sid, key, "urgent:gangrene") == "sent"
    [message] = fake_twilio.messages
    aof_redis.restart_cleanly()  # Redis restarts after the report ...
    # ... and its record of the alert is gone (what a crash's lost second takes).
    svc.redis.delete(keys.caregiver_sent(sid), keys.message_index(message.sid))
    assert svc.send_care_alert(sid, key, "urgent:gangrene") == "sent"
    assert fake_twilio.messages_to(carer) == [message]  # found at the provider, not resent
    assert caregivers.text_state(svc.redis, sid, key) == "sent"
    # The second attempt asked the provider, and created nothing.
    methods = [r.method for r in fake_twilio.requests_log]
    assert methods.count("POST") == 1 and methods[-1] == "GET", methods


@pytest.mark.parametrize("aof_redis", ["always"], indirect=True)
def test_an_alert_raised_after_the_restart_is_not_looked_up(
    twilio_env: dict[str, str], fake_twilio: FakeTwilio, aof_redis: AofRedis,
) -> None:
    svc = make_services({**twilio_env, "REDIS_URL": aof_redis.url})
    [sid] = enrol_many(svc, 1, "America/Chicago", "20:00", datetime.now(UTC))
    activate_caregivers(svc, [sid])
    later = datetime.now(UTC) + timedelta(minutes=10)  # reported long after Redis started
    assert svc.send_care_alert(sid, f"alert:{int(later.timestamp() * 1000)}",
                               "urgent:gangrene") == "sent"
    assert [r.method for r in fake_twilio.requests_log] == ["POST"]  # no lookup first


def test_only_a_missing_record_counts_as_restarted(redis_client: redis.Redis) -> None:
    """The claim's outcomes with an attempt window that holds the Redis's start: no record is
    `restarted`; a retry whose attempt surely did not reach the provider is claimed as usual;
    without a window, or with one that ended before the start, nothing is looked up."""
    started = time.time() - int(redis_client.info("server")["uptime_in_seconds"])
    holds, before = (started - 60, time.time() + 60), (started - 7200, started - 3600)
    now = time.time()
    assert caregivers.claim_text(redis_client, "1", "alert:1", now, 15, holds)[0] == "restarted"
    caregivers.retry_text(redis_client, "1", "alert:1", "http-500")  # refused: not ambiguous
    assert caregivers.claim_text(redis_client, "1", "alert:1", now, 15, holds) == (
        "claimed", "")
    assert caregivers.claim_text(redis_client, "2", "alert:2", now, 15, before)[0] == "claimed"
    assert caregivers.claim_text(redis_client, "3", "alert:3", now, 15)[0] == "claimed"
