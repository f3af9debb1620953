"""The name index's leaves (storage/names.py, lua/names_functions.lua): with hundreds of people a
set splits into small listpack leaves, and every count and page still equals what sorting
everyone by name would give; a forget of everyone leaves no key; a recount finds an index
changed behind the service's back (an entry missing, an extra one, one in the wrong set) and
rebuilds it."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from reminders.app.people.forget import forget
from reminders.app.records import stats
from reminders.domain.states import SmsStatus
from reminders.domain.subscriber import Subscriber
from reminders.storage import names
from reminders.storage.keys_counts import NAMES_PREFIX
from reminders.wiring import Services

FIRST = ("Ana", "Anabel", "Bo", "José", "Robert", "Rob", "Zoë")


def crowd(svc: Services, count: int) -> list[Subscriber]:
    """`count` people, every seventh one opted out of SMS, names sharing prefixes."""
    people = []
    for n in range(count):
        sub = Subscriber(
            id=f"{100_000_000 + n * 7919}", phone=f"+1312556{n:04d}", email=None,
            name=f"{FIRST[n % len(FIRST)]} {n % 13}", timezone="America/Chicago",
            send_time=time(20, 0), channels=frozenset({"sms"}),
            sms_status=SmsStatus.OPTED_OUT if n % 7 == 3 else SmsStatus.ACTIVE)
        svc.store.create(sub, [])
        people.append(sub)
    return people


def by_name(people: list[Subscriber], prefix: bytes, opted_out: bool | None = None
            ) -> list[str]:
    """What the index should answer: the matching people sorted by (name, id)."""
    chosen = [p for p in people if names.key(p.name).startswith(prefix)
              and (opted_out is None or (p.sms_status == SmsStatus.OPTED_OUT) == opted_out)]
    return [p.id for p in sorted(chosen, key=lambda p: names.member(names.key(p.name), p.id))]


@pytest.fixture
def people(console_services: Services) -> list[Subscriber]:
    return crowd(console_services, 600)


def test_leaves_stay_small_and_pages_match_a_sort(console_services: Services,
                                                  people: list[Subscriber]) -> None:
    svc = console_services
    directory = names.set_key("active/none")
    bounds: list[bytes] = svc.redis.zrange(directory, 0, -1)  # type: ignore[assignment]
    assert len(bounds) > 3  # 514 people: split into several leaves
    for bound in bounds:
        leaf = directory.encode() + names.LEAF + bound
        assert 0 < svc.redis.zcard(leaf) <= 128
        assert svc.redis.object("encoding", leaf) == b"listpack"
    active = by_name(people, b"", opted_out=False)
    assert [names.subscriber_id(m) for m in names.members(svc.redis, "active/none")] == active
    both = ["active/none", "opted_out/none"]
    for prefix in (b"", b"a", b"ana", b"anab", b"rob", b"robert 1", b"zoe", b"x"):
        everyone = by_name(people, prefix)
        assert names.count(svc.redis, both, prefix) == len(everyone)
        assert names.count(svc.redis, ["active/none"], prefix) == len(
            by_name(people, prefix, opted_out=False))
        for offset, limit in ((0, 50), (40, 50), (130, 7), (500, 50)):
            assert names.page(svc.redis, both, prefix, offset, limit) == \
                everyone[offset:offset + limit]
            assert names.page(svc.redis, ["active/none"], prefix, offset, limit) == \
                by_name(people, prefix, opted_out=False)[offset:offset + limit]
    assert names.page(svc.redis, ["nobody/none"], b"", 0, 10) == []
    assert names.count(svc.redis, ["nobody/none"], b"") == 0

    now = datetime.now(UTC)
    for sub in people:
        forget(svc.store, sub, now)
    assert names.existing(svc.redis) == []


def test_a_recount_finds_a_damaged_name_index_and_rebuilds_it(
        console_services: Services, people: list[Subscriber]) -> None:
    svc = console_services
    now = datetime.now(UTC)
    assert stats.recount(svc.store, now).fields == {}
    directory = names.set_key("active/none").encode()
    entries = list(names.members(svc.redis, "active/none"))

    def leaf_of(entry: bytes) -> bytes:  # the greatest bound not above it
        bound: list[bytes] = svc.redis.zrange(  # type: ignore[assignment]
            directory, b"[" + entry, b"-", bylex=True, desc=True, offset=0, num=1)
        return directory + names.LEAF + bound[0]

    lost, moved = entries[10], entries[300]
    svc.redis.zrem(leaf_of(lost), lost)  # missing
    svc.redis.zrem(leaf_of(moved), moved)  # in the wrong set
    svc.redis.zadd(names.set_key("opted_out/none") + "|", {moved: 0})
    ghost = names.member(b"ghost", "999999999")
    svc.redis.zadd(leaf_of(ghost), {ghost: 0})  # nobody's

    drift = stats.recount(svc.store, now)
    assert drift.fields == {"names:missing": (0, 1), "names:extra": (1, 0),
                            "names:misplaced": (1, 1)}
    assert set(drift.names_ids) == {names.subscriber_id(lost), names.subscriber_id(moved),
                                    "999999999"}
    assert list(names.members(svc.redis, "active/none")) == entries
    assert names.count(svc.redis, ["active/none"], b"") == len(entries)  # the size rebuilt too
    assert stats.recount(svc.store, now).fields == {}
    assert not [k for k in svc.redis.scan_iter(match=names.scratch_prefix() + "*")]
    assert NAMES_PREFIX.encode() + b"active/none" in names.existing(svc.redis)


def test_an_index_of_the_layout_before_leaves_is_replaced(console_services: Services) -> None:
    """A set as the version before leaves kept it (one sorted set of "<name>\\0<id>"): search
    reads it as empty instead of walking it, the next write starts the set afresh, and a
    recount puts everyone back."""
    svc = console_services
    people = crowd(svc, 3)
    directory = names.set_key("active/none")
    for key in names.existing(svc.redis):
        svc.redis.delete(key)
    svc.redis.zadd(directory, {names.key(p.name) + b"\0" + p.id.encode(): 0 for p in people})
    assert names.page(svc.redis, ["active/none"], b"", 0, 10) == []
    assert names.count(svc.redis, ["active/none"], b"ana") == 0

    newcomer = Subscriber(
        id="999000001", phone="+13125569999", email=None, name="Newcomer",
        timezone="America/Chicago", send_time=time(20, 0), channels=frozenset({"sms"}),
        sms_status=SmsStatus.ACTIVE)
    svc.store.create(newcomer, [])
    assert names.page(svc.redis, ["active/none"], b"", 0, 10) == [newcomer.id]

    drift = stats.recount(svc.store, datetime.now(UTC))
    assert drift.fields["names:missing"] == (0, 3)  # the three people from before
    assert names.page(svc.redis, ["active/none"], b"", 0, 10) == by_name(
        [*people, newcomer], b"", opted_out=False)
