"""Writes that must survive a failover wait for a replica (storage/replicas.py); the Sentinel
and broker settings. The failover itself is in test_faults_sentinel.py."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import redis

from reminders.app.people.preferences import Enrolment, enrol
from reminders.settings import load_settings
from reminders.storage import keys, nights
from reminders.storage.client import RedisError, SentinelUrl
from reminders.storage.replicas import NotReplicated
from testing.twilio_api import FakeTwilio
from tests.conftest import make_services, need, private_redis, wait_until
from tests.faults.test_faults import due_now


def _waits(url: str) -> int:
    stats = redis.Redis.from_url(url).info("commandstats")
    return int(stats.get("cmdstat_wait", {}).get("calls", 0))


@pytest.fixture
def primary_and_replica() -> Iterator[tuple[str, str]]:
    binary = shutil.which("redis-server")
    need(binary is not None, "redis-server is not installed")
    assert binary is not None
    primary_gen = private_redis(binary, "--maxmemory-policy", "noeviction")
    primary = next(primary_gen)
    port = primary.rsplit(":", 1)[1].split("/")[0]
    replica_gen = private_redis(binary, "--replicaof", "127.0.0.1", port)
    replica = next(replica_gen)
    # Synced, and acknowledging: the master counts the replica online a moment after the
    # replica counts its link up.
    wait_until(lambda: redis.Redis.from_url(primary).wait(1, 100) == 1, 30,
               "the replica to sync and acknowledge")
    yield primary, replica
    replica_gen.close()
    primary_gen.close()


def test_writes_wait_for_a_connected_replica(
    base_env: dict[str, str], primary_and_replica: tuple[str, str], fake_twilio: FakeTwilio,
    twilio_env: dict[str, str],
) -> None:
    primary, replica = primary_and_replica
    # What is asserted is that the writes wait and reach the replica; a replica that does not
    # answer in time is the next test's. 5 s, not 500 ms: with the suite's other processes on
    # two cores, a live replica's acknowledgement took longer than 500 ms.
    svc = make_services({**twilio_env, "REDIS_URL": primary, "REDIS_WAIT_TIMEOUT_MS": "5000"})
    crowd = due_now(svc, 1)
    enrolled = _waits(primary)
    assert enrolled >= 1  # the enrolment waited
    [sid] = crowd.ids
    assert svc.sender.deliver(sid, crowd.evening, datetime.now(UTC)).channels == {
        "sms": "sent"}
    assert _waits(primary) - enrolled == 2  # the night claim, then the send record
    night = redis.Redis.from_url(replica).hgetall(keys.night(sid, crowd.evening))
    assert night[b"sms"] == b"sent"
    assert night[b"sms_id"].decode() == fake_twilio.messages[0].sid


def test_a_redis_without_replicas_never_waits(console_services: object,
                                              base_env: dict[str, str]) -> None:
    svc = make_services(base_env)
    redis.Redis.from_url(base_env["REDIS_URL"]).config_resetstat()
    enrol(svc.store, svc.settings, Enrolment(phone="+13125550142", timezone="UTC",
                                             time="20:00", confirmed=True))
    assert _waits(base_env["REDIS_URL"]) == 0


def test_a_claim_no_replica_acknowledged_is_given_back_before_any_send(
    twilio_env: dict[str, str], fake_twilio: FakeTwilio,
) -> None:
    # One replica demanded, none there: WAIT times out with 0 acknowledgements.
    crowd = due_now(make_services(twilio_env), 1)
    svc = make_services({**twilio_env, "REDIS_MIN_REPLICAS_ACK": "1",
                         "REDIS_WAIT_TIMEOUT_MS": "20"})
    [sid] = crowd.ids
    with pytest.raises(NotReplicated) as raised:
        svc.sender.deliver(sid, crowd.evening, datetime.now(UTC))
    assert isinstance(raised.value, RedisError)  # the task's Redis handling retries it
    assert fake_twilio.messages == []
    night = nights.read(svc.redis, sid, crowd.evening)
    assert "sms" not in night and "sms_lease" not in night  # the claim undone
    # With the replica requirement lifted (or met), the retry owns the night again.
    assert nights.claim(crowd.svc.redis, sid, crowd.evening, "sms", datetime.now(UTC),
                        15).owned


@pytest.mark.parametrize(("env", "message"), [
    ({"REDIS_URL": "sentinel://h1:26379;sentinel://h2:26379/0"},
     "REDIS_SENTINEL_MASTER is required when REDIS_URL is sentinel://"),
    ({"REDIS_URL": "sentinel://h1:26379;redis://h2:6379/0", "REDIS_SENTINEL_MASTER": "m"},
     "REDIS_URL must be sentinel://HOST:PORT"),
    ({"CELERY_BROKER_URL": "kafka://h1:9092"}, "CELERY_BROKER_URL must start with redis://"),
    ({"CELERY_BROKER_URL": "sentinel://h1:26379"},
     "CELERY_BROKER_SENTINEL_MASTER (or REDIS_SENTINEL_MASTER) is required"),
    ({"REDIS_MIN_REPLICAS_ACK": "some"}, "REDIS_MIN_REPLICAS_ACK must be a whole number"),
])
def test_bad_sentinel_and_broker_settings_name_the_variable(env: dict[str, str],
                                                            message: str) -> None:
    from reminders.settings import ConfigError

    with pytest.raises(ConfigError) as raised:
        load_settings(env)
    assert str(raised.value).startswith(message)


def test_sentinel_and_broker_settings() -> None:
    s = load_settings({"REDIS_URL": "sentinel://:pw@h1:26379; sentinel://h2/3",
                       "REDIS_SENTINEL_MASTER": "reminders",
                       "CELERY_BROKER_URL": "amqp://u:p@rabbit:5672//",
                       "REDIS_MIN_REPLICAS_ACK": "auto"})
    assert s.broker_url == "amqp://u:p@rabbit:5672//" and s.redis_min_replicas_ack is None
    parsed = SentinelUrl.parse(s.redis_url)
    assert parsed.hosts == (("h1", 26379), ("h2", 26379)) and parsed.db == 3
    # kombu reads the database number from the first sentinel: it is on every one.
    assert parsed.kombu_url() == "sentinel://:pw@h1:26379/3;sentinel://:pw@h2:26379/3"
    assert load_settings({"REDIS_URL": "redis://h:6379/0"}).broker_url == "redis://h:6379/0"


def test_an_unacknowledged_takeover_keeps_what_the_dead_attempt_left_to_look_up(
        redis_client: redis.Redis) -> None:
    from datetime import date

    from reminders.storage import replicas

    evening, now = date(2030, 1, 1), datetime(2030, 1, 1, 20, 0, tzinfo=UTC)
    # A sender died mid-send: its lease has run out, its attempt started at `since`.
    since = now.timestamp() - 60
    redis_client.hset(keys.night("s1", evening), mapping={
        "sms": "sending", "sms_lease": since + 15, "sms_since": since})
    replicas.configure(redis_client, 1, 20)  # one replica demanded, none there
    with pytest.raises(NotReplicated):
        nights.claim(redis_client, "s1", evening, "sms", now, 15)
    night = nights.read(redis_client, "s1", evening)
    assert (night["sms"], float(night["sms_uncertain"])) == ("retry", since)
    replicas.configure(redis_client, 0, 20)
    claim = nights.claim(redis_client, "s1", evening, "sms", now, 15)
    assert (claim.outcome, float(claim.detail)) == ("reclaimed", since)  # it looks first
