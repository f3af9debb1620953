"""The due index in shards (storage/due_index.py): claims across shards, leases, the lower
bounds of the next index, the move from the single sorted set of earlier versions, and what
Redis actually stores (small listpacks)."""

from __future__ import annotations

import random
import secrets
import threading

import redis

from reminders.storage import due_index, keys
from reminders.storage.lua import source
from reminders.wiring import Services
from tests.conftest import run_threads

T = 1_800_000_000.0  # an instant; people are due at T + n minutes


def schedule(client: redis.Redis, instants: dict[str, float]) -> None:
    due_index.schedule_many(client, instants)


def test_python_and_lua_put_an_id_in_the_same_shard(redis_client: redis.Redis) -> None:
    ids = [secrets.token_hex(6) for _ in range(200)] + ["a", "late", "x" * 40, "00000000000b"]
    lua = source("due_functions") + "\nreturn shard_of(ARGV[1], tonumber(ARGV[2]))"
    for subscriber_id in ids:
        assert redis_client.eval(lua, 0, subscriber_id, keys.DUE_SHARDS) == (
            keys.due_shard_number(subscriber_id)), subscriber_id


def test_claims_across_shards_in_batches_each_person_once(redis_client: redis.Redis) -> None:
    people = {f"p{n:03d}": T + 60 * (n % 3) for n in range(30)}
    later = {f"q{n:03d}": T + 3600 for n in range(10)}
    schedule(redis_client, {**people, **later})
    assert len({keys.due_shard(i) for i in people}) > 20  # really spread over shards
    assert due_index.size(redis_client) == 40
    batches = []
    while batch := due_index.claim(redis_client, T + 120, T + 400, 7):
        batches.append(batch)
    assert [len(b) for b in batches] == [7, 7, 7, 7, 2]
    claimed = [pair for batch in batches for pair in batch]
    assert sorted(claimed) == sorted(people.items())  # each once, with its due instant
    assert due_index.claimed(redis_client) == 30
    # Rescheduled a day on; the later ten were never touched.
    assert due_index.finish(redis_client, [(i, str(int(s + 86400))) for i, s in claimed]) == 30
    assert due_index.claimed(redis_client) == 0
    assert due_index.next_due(redis_client, "p004") == T + 60 + 86400
    assert due_index.next_due(redis_client, "q000") == T + 3600
    assert due_index.claim(redis_client, T + 3599, T + 4000, 100) == []


def test_two_claimers_at_once_never_take_the_same_person(redis_client: redis.Redis,
                                                         redis_url: str) -> None:
    schedule(redis_client, {f"p{n:04d}": T + (n % 50) for n in range(2000)})
    taken: list[str] = []
    lock = threading.Lock()

    def claimer() -> None:
        client = redis.Redis.from_url(redis_url)
        while batch := due_index.claim(client, T + 60, T + 400, 13):
            with lock:
                taken.extend(i for i, _ in batch)

    run_threads([claimer] * 4)
    assert len(taken) == 2000 and len(set(taken)) == 2000


def test_an_expired_lease_puts_the_person_back_in_their_shard(redis_client: redis.Redis
                                                              ) -> None:
    schedule(redis_client, {"ana": T, "bo": T + 30})
    assert sorted(due_index.claim(redis_client, T + 60, T + 300, 10)) == [
        ("ana", T), ("bo", T + 30)]
    assert due_index.next_due(redis_client, "ana") is None
    # The dispatcher died; after the lease, the next claim first restores, then claims again.
    assert sorted(due_index.claim(redis_client, T + 301, T + 600, 10)) == [
        ("ana", T), ("bo", T + 30)]
    # Only the live claim can finish them.
    assert due_index.finish(redis_client, [("ana", str(int(T + 86400))), ("bo", "")]) == 2
    assert due_index.next_due(redis_client, "ana") == T + 86400
    assert due_index.next_due(redis_client, "bo") is None


def test_a_stale_lower_bound_is_corrected_by_the_claim_that_finds_nobody(
        redis_client: redis.Redis) -> None:
    shard = str(keys.due_shard_number("ana"))
    schedule(redis_client, {"ana": T})
    schedule(redis_client, {"ana": T + 7200})  # moved later: the bound stays at T
    assert redis_client.zscore(keys.DUE_NEXT, shard) == T
    assert due_index.claim(redis_client, T + 60, T + 300, 10) == []
    assert redis_client.zscore(keys.DUE_NEXT, shard) == T + 7200
    # Moved earlier: the bound follows at once (ZADD LT).
    schedule(redis_client, {"ana": T + 10})
    assert redis_client.zscore(keys.DUE_NEXT, shard) == T + 10
    assert due_index.claim(redis_client, T + 60, T + 300, 10) == [("ana", T + 10)]


def test_removal_leaves_nothing_behind(redis_client: redis.Redis) -> None:
    schedule(redis_client, {"ana": T, "bo": T + 60})
    for subscriber_id in ("ana", "bo"):
        with redis_client.pipeline() as pipe:
            due_index.remove_in(pipe, subscriber_id)
            pipe.execute()
    assert due_index.size(redis_client) == 0
    assert redis_client.keys("*") == []  # no shard, and no bound naming an evening time


def test_the_single_set_of_earlier_versions_is_moved_and_still_claimed(
        console_services: Services, redis_client: redis.Redis) -> None:
    old = {f"p{n:04d}": T + 60 * (n % 90) for n in range(2500)}
    for start in range(0, 2500, 500):
        redis_client.zadd(keys.DUE, dict(list(old.items())[start:start + 500]))
    # Written by an older process after this one started: claimed from where it is.
    assert due_index.claim(redis_client, T, T + 300, 1000) == [(f"p{n:04d}", T)
                                                              for n in range(0, 2500, 90)]
    assert due_index.finish(redis_client, [(f"p{n:04d}", str(int(T + 86400)))
                                           for n in range(0, 2500, 90)]) == 28
    assert due_index.migrate(redis_client) == 2500 - 28
    assert not redis_client.exists(keys.DUE) and due_index.migrate(redis_client) == 0
    assert due_index.size(redis_client) == 2500
    assert due_index.next_due(redis_client, "p0001") == T + 60
    assert due_index.next_due(redis_client, "p0090") == T + 86400
    before, counts = due_index.count_by_minute(redis_client, int(T) + 60, 89)
    # Minute k (1..89) holds n = k + 90 j <= 2499: 28 people for k <= 69, 27 after; the 28
    # with n % 90 == 0 were moved a day on, so nobody is due before the window.
    assert before == 0 and counts == [28] * 69 + [27] * 20
    before, counts = due_index.count_by_minute(redis_client, int(T) + 120, 1)
    assert (before, counts) == (28, [28])  # minute 1 is now before the window
    # Every entry point moves it at start (check_storage), and stores what Redis keeps small.
    redis_client.zadd(keys.DUE, {"late": T})
    console_services.check_storage()
    assert not redis_client.exists(keys.DUE) and due_index.next_due(redis_client, "late") == T
    encodings = {redis_client.object("encoding", k)
                 for k in redis_client.scan_iter(match=keys.DUE_SHARD_PREFIX + "*")}
    assert encodings == {b"listpack"}


def test_due_before_pages_through_every_shard_in_order_with_ties(
        redis_client: redis.Redis) -> None:
    # 600 people over 16,384 shards, many at the same instant (one evening time), a few
    # overdue, some after the end: each page is the next 50 in (instant, id) order, none twice
    # or left out, and nobody at or after `end`.
    instants = {f"p{n:04d}": T + 60 * (n % 7) - (300 if n % 50 == 0 else 0)
                for n in range(600)}
    instants.update({f"late{n}": T + 3600 + n for n in range(20)})
    schedule(redis_client, instants)
    expected = sorted((t, i) for i, t in instants.items() if t < T + 3600)
    pages: list[tuple[str, float]] = []
    after = None
    while True:
        page = due_index.due_before(redis_client, T + 3600, 50, after)
        if not page:
            break
        assert len(page) <= 50
        pages += page
        after = (page[-1][1], page[-1][0])
    assert [(t, i) for i, t in pages] == expected
    assert due_index.due_before(redis_client, T + 3600, 3) == [
        (i, t) for t, i in expected[:3]]


def test_due_before_pages_match_a_plain_sort_with_random_ties_and_cursors_inside_them(
        redis_client: redis.Redis) -> None:
    # Few distinct instants over many people (long tie runs, across shards and inside them),
    # ids of different lengths and cases, some overdue, some in the legacy set, some at or after
    # `end`; more shards than one due_page call takes. Every page, from any cursor (here inside
    # tie runs and on an id nobody has), is the next `limit` of a plain sort.
    rng = random.Random(31)
    instants = {secrets.token_hex(rng.randint(1, 6)) + rng.choice(["", "A", "z", "_"]):
                T + 60 * rng.randint(-3, 8) for _ in range(6000)}
    legacy = {f"old{n}": T + 60 * rng.randint(-3, 8) for n in range(40)}
    schedule(redis_client, instants)
    redis_client.zadd(keys.DUE, legacy)
    end = T + 60 * 6
    expected = sorted((t, i) for i, t in {**instants, **legacy}.items() if t < end)
    assert len({keys.due_shard(i) for _, i in expected}) > due_index.PAGE_SHARDS
    walked: list[tuple[float, str]] = []
    after = None
    for _ in range(len(expected) // 97 + 2):  # bounded: a wrong cursor must not loop forever
        page = due_index.due_before(redis_client, end, 97, after)
        if not page:
            break
        walked += [(t, i) for i, t in page]
        after = walked[-1]
    assert walked == expected
    for after in [*rng.sample(expected, 20), (T + 60, "0"), (T + 60, "7fff~"), (T - 600, "")]:
        later = [entry for entry in expected if entry > after]
        for limit in (1, 50):
            assert due_index.due_before(redis_client, end, limit, after) == [
                (i, t) for t, i in later[:limit]], (after, limit)
