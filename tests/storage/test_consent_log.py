"""The consent log: per-person reads (no whole-stream XRANGE), retention, and older entries.

What Redis was asked is watched with MONITOR, on a real server: `forget` and the history must
read a person's own entries by id, whatever else the log holds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import redis

from reminders.app.people.preferences import Enrolment, enrol
from reminders.domain.subscriber import Subscriber
from reminders.storage import consent_log, keys
from reminders.storage.consent_log import CONSENT_RETENTION, ConsentEvent
from reminders.wiring import Services
from tests.conftest import Cli

PHONE = "+13125550142"


def person(svc: Services, phone: str = PHONE) -> Subscriber:
    return enrol(svc.store, svc.settings, Enrolment(phone=phone, confirmed=True))


def crowd(client: redis.Redis, entries: int, first_ms: int | None = None) -> None:
    """`entries` consent events of other people (explicit ids from `first_ms`, or now)."""
    event = ConsentEvent("sms", "confirmed", "import")
    with client.pipeline(transaction=False) as pipe:
        for n in range(entries):
            eid = f"{first_ms + n}-0" if first_ms is not None else "*"
            pipe.xadd(keys.CONSENT_LOG, event.fields(f"{n:012x}"), id=eid)  # type: ignore[arg-type]
        pipe.execute()


@contextmanager
def commands(url: str) -> Iterator[list[list[str]]]:
    """Every command Redis receives while the block runs (MONITOR), as lists of words."""
    seen: list[list[str]] = []
    client = redis.Redis.from_url(url)
    ready = threading.Event()

    def watch() -> None:
        with client.monitor() as monitor:
            ready.set()
            for command in monitor.listen():
                words = str(command["command"]).split()
                if words[:2] == ["ECHO", "monitor-done"]:
                    return
                seen.append(words)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    ready.wait(5)
    time.sleep(0.1)  # MONITOR is answered before it starts relaying
    try:
        yield seen
    finally:
        client.echo("monitor-done")
        thread.join(10)
        client.close()


def reads_of_the_log(seen: list[list[str]]) -> list[list[str]]:
    return [words for words in seen if words[0] in ("XRANGE", "XREVRANGE", "XREAD")]


def test_forget_and_history_read_only_the_persons_own_entries(
        console_services: Services, redis_url: str) -> None:
    svc = console_services
    crowd(svc.redis, 20_000)
    sub = person(svc)
    svc.store.save(sub, sub.with_changes(sms_status="opted_out"),
                   [ConsentEvent("sms", "opted_out", "sms", "stop")])
    crowd(svc.redis, 5_000)
    with commands(redis_url) as seen:
        history = svc.store.consent_history(sub.id)
    assert [e["action"] for e in history] == ["confirmed", "opted_out"]
    ranges = reads_of_the_log(seen)
    assert ranges and all(words[2] == words[3] for words in ranges), ranges  # one id each

    with commands(redis_url) as seen:
        svc.store.delete(sub, suppress=True)
    assert all(words[2] == words[3] for words in reads_of_the_log(seen)), seen
    remaining = [fields for _id, fields in svc.redis.xrange(keys.CONSENT_LOG)
                 if fields[b"s"] == sub.id.encode()]
    assert remaining == []
    assert svc.redis.xlen(keys.CONSENT_LOG) == 25_001  # the others, and one "forgotten"


def test_entries_past_the_retention_are_trimmed_as_the_log_grows(
        console_services: Services) -> None:
    svc = console_services
    assert CONSENT_RETENTION.days >= 4 * 365  # TCPA claims can be brought for four years
    too_old = int((time.time() - CONSENT_RETENTION.total_seconds()) * 1000) - 10_000_000
    crowd(svc.redis, 1_000, first_ms=too_old)
    person(svc)  # any new event trims what is past the retention
    cutoff = consent_log.cutoff_ms()
    old = [eid for eid, _f in svc.redis.xrange(keys.CONSENT_LOG)
           if int(eid.decode().split("-")[0]) < cutoff]
    # Trimming is by whole stream nodes (XADD MINID ~): at most one node of old entries stays.
    assert len(old) <= 100


def test_a_persons_index_drops_what_is_past_the_retention(console_services: Services) -> None:
    svc = console_services
    sub = person(svc)
    old_id = f"{consent_log.cutoff_ms() - 60_000}-0"
    record = keys.subscriber(sub.id)
    index = svc.redis.hget(record, consent_log.INDEX_FIELD)
    assert index is not None
    svc.redis.hset(record, consent_log.INDEX_FIELD, f"{old_id} {index.decode()}")
    svc.store.save(sub, sub.with_changes(name="Ana"), [ConsentEvent("sms", "opted_out", "sms")])
    kept = consent_log.entry_ids(svc.redis.hget(record, consent_log.INDEX_FIELD))
    assert old_id not in kept and len(kept) == 2


def _legacy(svc: Services, sub: Subscriber, actions: list[str]) -> None:
    """As the code before the per-person index wrote them: stream entries, no index field."""
    svc.redis.hdel(keys.subscriber(sub.id), consent_log.INDEX_FIELD)
    for action in actions:
        svc.redis.xadd(keys.CONSENT_LOG, ConsentEvent("sms", action, "sms").fields(sub.id))  # type: ignore[arg-type]
    svc.redis.delete(keys.CONSENT_INDEXED)


def test_entries_written_before_the_index_are_found_and_forgotten(
        cli: Cli, console_services: Services) -> None:
    svc = console_services
    sub = person(svc)
    other = person(svc, "+13125550143")
    crowd(svc.redis, 2_500)
    _legacy(svc, sub, ["opted_out", "opted_in"])
    _legacy(svc, other, ["opted_out"])
    assert cli("list").returncode == 0  # any command's start-up indexes them, once
    assert svc.redis.get(keys.CONSENT_INDEXED)
    assert [e["action"] for e in svc.store.consent_history(sub.id)] == [
        "confirmed", "opted_out", "opted_in"]
    assert cli("forget", PHONE).returncode == 0
    assert not any(f[b"s"] == sub.id.encode() for _id, f in svc.redis.xrange(keys.CONSENT_LOG))
    assert [e["action"] for e in svc.store.consent_history(other.id)] == [
        "confirmed", "opted_out"]


def test_a_long_history_keeps_the_record_small_and_is_all_forgotten(
        console_services: Services) -> None:
    svc = console_services
    sub = person(svc)
    for n in range(30):
        current = svc.store.get(sub.id)
        assert current is not None
        state = "opted_out" if n % 2 == 0 else "active"
        svc.store.save(current, current.with_changes(sms_status=state),
                       [ConsentEvent("sms", "opted_out" if n % 2 == 0 else "opted_in", "sms")])
    record = keys.subscriber(sub.id)
    assert svc.redis.object("encoding", record) == b"listpack"  # the index did not bloat it
    assert len(svc.redis.hget(record, consent_log.INDEX_FIELD) or b"") <= 64
    actions = [e["action"] for e in svc.store.consent_history(sub.id)]
    assert actions == ["confirmed"] + ["opted_out", "opted_in"] * 15
    svc.store.delete(sub, suppress=True)
    assert not svc.redis.exists(keys.consent_overflow(sub.id))
    assert not any(f[b"s"] == sub.id.encode() for _id, f in svc.redis.xrange(keys.CONSENT_LOG))
