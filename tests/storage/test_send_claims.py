"""Sends claimed once (storage/send_claims.py): a claim without a lease is the caller's for
good; a claim with a lease can be taken again once it is older than the lease and unfinished,
including one written before claims had a time (dated by its TTL); a finished one never."""

from __future__ import annotations

import redis

from reminders.storage import keys_care, send_claims

T = 1_800_000_000.0


def test_a_leased_claim_is_taken_again_only_when_old_and_unfinished(
        redis_client: redis.Redis) -> None:
    assert send_claims.claim(redis_client, "s", "a", T, 60)
    assert not send_claims.claim(redis_client, "s", "a", T + 60, 60)  # within the lease
    assert send_claims.state(redis_client, "s", "a") == "claimed"
    assert send_claims.claim(redis_client, "s", "a", T + 61, 60)  # its owner died
    assert not send_claims.claim(redis_client, "s", "a", T + 100, 60)  # the new owner's
    assert redis_client.ttl(keys_care.send_claim("s", "a")) > 0
    send_claims.finish(redis_client, "s", "a", "sent")
    assert not send_claims.claim(redis_client, "s", "a", T + 10**6, 60)
    assert send_claims.state(redis_client, "s", "a") == "sent"
    # Without a lease: once, whatever the time.
    assert send_claims.claim(redis_client, "s", "b")
    assert not send_claims.claim(redis_client, "s", "b")


def test_a_claim_from_before_leases_is_dated_by_its_ttl(redis_client: redis.Redis) -> None:
    key = keys_care.send_claim("s", "old")
    ttl = keys_care.SEND_CLAIM_TTL_SECONDS
    redis_client.set(key, "claimed", ex=ttl - 30)  # written 30 s ago
    assert not send_claims.claim(redis_client, "s", "old", T, 60)
    redis_client.set(key, "claimed", ex=ttl - 120)  # two minutes ago: its owner is gone
    assert send_claims.claim(redis_client, "s", "old", T, 60)
    assert redis_client.get(key) == f"claimed:{T!r}".encode()
