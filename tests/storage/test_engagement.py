"""Engagement counts kept with the night records (storage/engagement.py): an evening counts
once however many channels are reported delivered, and a recount corrects only the dates whose
records all still exist."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import redis

from reminders.domain.states import DELIVERY_RANKS
from reminders.storage import engagement, keys, nights

NOW = datetime.now(UTC)
DAY = NOW.date() - timedelta(days=3)
START = datetime.combine(DAY, datetime.min.time(), UTC) - timedelta(days=8)  # week 1


def person(client: redis.Redis, sid: str, language: str) -> None:
    client.hset(keys.subscriber(sid), mapping={"created": int(START.timestamp()), "l": language})
    client.hset(keys.night(sid, DAY), mapping={"sms": "sent", "voice": "sent"})


def counts(client: redis.Redis) -> dict[str, int]:
    raw = client.hgetall(keys.night_stats(DAY))
    return {k.decode(): int(v) for k, v in raw.items() if k.startswith(b"engagement:")}


def test_two_channels_delivered_and_answered_twice_count_one_evening(
        redis_client: redis.Redis) -> None:
    person(redis_client, "a1", "es")
    nights.note(redis_client, "a1", DAY, score="4")  # answered before any report
    for channel in ("sms", "voice", "sms"):
        nights.advance_status(redis_client, "a1", DAY, "delivered", "", DELIVERY_RANKS, channel)
    nights.note(redis_client, "a1", DAY, done="1")
    # the weekly text's field is not an evening's channel: its report counts nothing
    person(redis_client, "b2", "en")
    nights.advance_status(redis_client, "b2", DAY, "delivered", "", DELIVERY_RANKS, "weekly")
    assert counts(redis_client) == {"engagement:delivered:1/es": 1,
                                    "engagement:engaged:1/es": 1}
    assert engagement.read(redis_client, [DAY]) == {("1", "es"): {"delivered": 1, "engaged": 1}}
    assert engagement.recount(redis_client, engagement.recount_dates(NOW)) == {}


def test_a_recount_leaves_dates_whose_records_may_be_gone_alone(
        redis_client: redis.Redis) -> None:
    old = NOW.date() - timedelta(days=engagement.RECOUNT_DAYS + 5)
    redis_client.hset(keys.night_stats(old), "engagement:delivered:3/en", 7)
    redis_client.hset(keys.night_stats(DAY), "engagement:delivered:3/en", 2)  # no records
    drift = engagement.recount(redis_client, engagement.recount_dates(NOW))
    assert drift == {f"engagement:{DAY}:delivered:3/en": (2, 0)}
    assert redis_client.hget(keys.night_stats(old), "engagement:delivered:3/en") == b"7"
    assert int(redis_client.hget(keys.night_stats(DAY), "engagement:delivered:3/en") or 0) == 0


def test_a_forgotten_persons_evenings_leave_the_counts_with_their_records(
        redis_client: redis.Redis) -> None:
    person(redis_client, "c3", "en")
    nights.advance_status(redis_client, "c3", DAY, "delivered", "", DELIVERY_RANKS, "sms")
    nights.note(redis_client, "c3", DAY, done="1")
    found = nights.of_subscriber(redis_client, "c3", NOW.date())
    marks = engagement.counted(redis_client, found.evenings)
    assert marks == [(DAY, "1/en", True)]
    with redis_client.pipeline(transaction=True) as pipe:
        found.erase(pipe)
        engagement.forget_in(pipe, marks)
        pipe.execute()
    assert {k: n for k, n in counts(redis_client).items() if n} == {}
    assert engagement.recount(redis_client, engagement.recount_dates(NOW)) == {}
