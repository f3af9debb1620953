"""The subscriber store under concurrent changes: no change is lost, nothing half-written."""

from __future__ import annotations

import functools
import itertools
import threading
from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from typing import Any

import pytest
import redis

from reminders.app.people.preferences import Enrolment, enrol
from reminders.domain.channels import parse_set
from reminders.domain.subscriber import Subscriber
from reminders.storage import keys, subscriber_codec
from reminders.storage.subscriber_codec import from_hash, to_hash
from reminders.storage.subscribers import AlreadySubscribed, ConsentEvent, NotFound, Store
from reminders.wiring import Services
from tests.conftest import run_threads


def _sub(svc: Services, phone: str = "+13125550142", **kw: str) -> Subscriber:
    return enrol(svc.store, svc.settings, Enrolment(phone=phone, confirmed=True, **kw))


def test_a_new_id_that_is_taken_is_drawn_again(console_services: Services) -> None:
    """Ids are nine random digits: two people can draw the same one; the second draws again."""
    svc = console_services
    first = _sub(svc)
    twin = Subscriber(id=first.id, phone="+13125550143", email=None, name="Bo",
                      timezone="America/Chicago", send_time=time(20, 0),
                      channels=parse_set("sms"),
                     sms_status="active")
    stored = svc.store.create(twin, [ConsentEvent("sms", "confirmed", "cli")])
    assert stored.id != first.id and len(stored.id) == 9 and stored.id.isdigit()
    assert stored == twin.with_changes(id=stored.id)
    assert svc.store.get(first.id) == first  # untouched
    assert svc.store.find("+13125550143") == stored
    assert [e["action"] for e in svc.store.consent_history(stored.id)] == ["confirmed"]


def test_changes_made_from_a_stale_copy_keep_the_other_writer(console_services: Services
                                                              ) -> None:
    svc = console_services
    stale = _sub(svc)
    svc.store.save(stale, stale.with_changes(sms_status="opted_out"))  # e.g. a STOP
    saved = svc.store.save(stale, stale.with_changes(send_time=time(21, 0)))  # e.g. `set`
    stored = svc.store.get(stale.id)
    assert stored == saved
    assert stored is not None and stored.sms_status == "opted_out"
    assert stored.send_time == time(21, 0)
    assert svc.store.next_due(stale.id) is None  # opted out stays out of the due index


def test_many_concurrent_writers_each_keep_their_field(console_services: Services) -> None:
    svc = console_services
    sub = _sub(svc)
    changes = [{"heat_ok": True}, {"massage_ok": False}, {"name": "Ana"}, {"streak": 3},
               {"send_time": time(22, 30)}, {"timezone": "America/Denver"}]

    def write(change: dict[str, object]) -> None:
        svc.store.save(sub, sub.with_changes(**change))

    run_threads([functools.partial(write, c) for c in changes])
    stored = svc.store.get(sub.id)
    assert stored is not None
    assert (stored.heat_ok, stored.massage_ok, stored.name, stored.streak) == (True, False,
                                                                                "Ana", 3)
    assert stored.send_time == time(22, 30) and stored.timezone == "America/Denver"


def test_taking_someone_elses_email_writes_nothing(console_services: Services) -> None:
    svc = console_services
    first = _sub(svc, email="a@example.org", channel="both")
    second = _sub(svc, phone="+13125550143")
    with pytest.raises(AlreadySubscribed):
        svc.store.save(second, second.with_changes(email="a@example.org", channel="both"))
    assert svc.store.get(second.id) == second
    assert svc.store.find("a@example.org") == first


def test_saving_a_forgotten_subscriber_is_refused(console_services: Services) -> None:
    svc = console_services
    sub = _sub(svc)
    svc.store.delete(sub, suppress=False)
    with pytest.raises(NotFound):
        svc.store.save(sub, sub.with_changes(name="ghost"))
    assert svc.store.get(sub.id) is None


# -- the record's layout -----------------------------------------------------------------------

OLD_LAYOUT = {  # as the first version wrote it: the id, every default, `created` in ISO 8601
    "id": "0123456789ab", "tz": "America/Chicago", "time": "20:30", "ch": "both",
    "sms": "active", "em": "none", "heat": "0", "massage": "1",
    "created": "2025-03-01T18:04:05Z", "phone": "+13125550142", "name": "Ana",
    "email": "ana@example.org", "streak": "2", "done": "2025-03-02",
}


def test_a_record_in_the_old_layout_is_still_read(console_services: Services) -> None:
    svc = console_services
    svc.redis.hset(keys.subscriber("0123456789ab"), mapping=OLD_LAYOUT)  # type: ignore[arg-type]
    entry = keys.phone_index("+13125550142")
    svc.redis.hset(entry.key, entry.field, "0123456789ab")
    expected = Subscriber(
        id="0123456789ab", phone="+13125550142", email="ana@example.org", name="Ana",
        timezone="America/Chicago", send_time=time(20, 30), channels=parse_set("both"),
        sms_status="active", email_status="none", heat_ok=False, massage_ok=True, streak=2,
        last_done=date(2025, 3, 2), created_at="2025-03-01T18:04:05Z")
    assert from_hash(OLD_LAYOUT) == expected  # no id needed: the old layout has it
    assert svc.store.get("0123456789ab") == expected
    assert svc.store.find("+1 312 555 0142") == expected
    assert [s.id for s in svc.store.all()] == ["0123456789ab"]
    # Saving it writes the new layout, with the same content.
    saved = svc.store.save(expected, expected.with_changes(name="Ana B"))
    assert svc.store.get(saved.id) == saved == expected.with_changes(name="Ana B")
    stored = {k.decode(): v.decode()
              for k, v in svc.redis.hgetall(keys.subscriber(saved.id)).items()}
    assert "id" not in stored and "em" not in stored and "heat" not in stored
    # "both" of the old layout is read as the set and written in the new form.
    assert OLD_LAYOUT["ch"] == "both" and stored["ch"] == "sms,email"
    assert stored["c"] == str(int(datetime(2025, 3, 1, 18, 4, 5, tzinfo=UTC).timestamp())
                              - subscriber_codec.CREATED_BASE)
    assert not {"tz", "time", "phone", "name", "created"} & set(stored)  # the long names


def test_a_record_with_the_long_field_names_is_still_read_and_rewritten_short(
        console_services: Services) -> None:
    """The layout before the one-letter names (tz, time as HH:MM, phone with "+", name,
    created as epoch seconds): read as it is, and rewritten short by its next save."""
    svc = console_services
    long_names = {"tz": "America/Chicago", "time": "20:30", "ch": "sms", "sms": "active",
                  "phone": "+13125550142", "name": "Ana", "created": "1740852245"}
    svc.redis.hset(keys.subscriber("00000000000b"), mapping=long_names)  # type: ignore[arg-type]
    expected = Subscriber(id="00000000000b", phone="+13125550142", email=None, name="Ana",
                          timezone="America/Chicago", send_time=time(20, 30),
                      channels=parse_set("sms"),
                     sms_status="active", created_at="2025-03-01T18:04:05Z")
    assert svc.store.get("00000000000b") == expected
    saved = svc.store.save(expected, expected.with_changes(streak=3))
    stored = {k.decode(): v.decode()
              for k, v in svc.redis.hgetall(keys.subscriber(saved.id)).items()}
    assert stored == {"z": "America/Chicago", "t": "1230", "ch": "sms", "sms": "active",
                      "p": "13125550142", "n": "Ana", "c": "36785045", "streak": "3"}
    assert svc.store.get(saved.id) == expected.with_changes(streak=3)


def test_the_new_layout_leaves_out_the_id_and_the_defaults() -> None:
    sub = Subscriber(id="00000000000a", phone="+13125550142", email=None, name="",
                     timezone="America/Chicago", send_time=time(20, 5),
                      channels=parse_set("sms"),
                     sms_status="active", created_at="2025-03-01T18:04:05Z")
    # 20:05 is minute 1205; created 1740852245 (epoch) is 36785045 s after 2024-01-01.
    assert to_hash(sub) == {"z": "America/Chicago", "t": "1205", "ch": "sms",
                            "p": "13125550142", "sms": "active", "c": "36785045"}
    with pytest.raises(ValueError):
        from_hash(to_hash(sub))  # the id comes from the key
    assert from_hash(to_hash(sub), sub.id) == sub
    odd = sub.with_changes(heat_ok=True, massage_ok=False, email="a@example.org",
                           email_status="unsubscribed", paused_until=date(2025, 4, 1),
                           created_at="yesterday")
    assert from_hash(to_hash(odd), odd.id) == odd


def test_consent_history_gives_the_time_from_the_entry_id(console_services: Services) -> None:
    svc = console_services
    before = datetime.now(UTC).replace(microsecond=0)
    sub = _sub(svc)
    svc.store.save(sub, sub.with_changes(sms_status="opted_out"),
                   [ConsentEvent("sms", "opted_out", "sms", "stop please")])
    history = svc.store.consent_history(sub.id)
    assert [(e["channel"], e["action"], e["source"], e["words"]) for e in history] == [
        ("sms", "confirmed", "cli", ""), ("sms", "opted_out", "sms", "stop please")]
    for event in history:
        assert event["sub"] == sub.id
        at = datetime.strptime(event["at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        assert before <= at <= datetime.now(UTC)


# -- the phone and email indexes -----------------------------------------------------------------

def _subscriber_keys(client: redis.Redis) -> list[bytes]:
    return list(client.scan_iter(match=keys.subscriber_pattern()))


def test_a_taken_phone_or_email_is_refused_and_nothing_is_written(console_services: Services
                                                                  ) -> None:
    svc = console_services
    first = _sub(svc, email="Ana@Example.org", channel="both")
    with pytest.raises(AlreadySubscribed):
        _sub(svc)  # same phone
    with pytest.raises(AlreadySubscribed):
        _sub(svc, phone="+13125550143", email="ana@example.org", channel="both")  # any case
    with pytest.raises(AlreadySubscribed):
        enrol(svc.store, svc.settings, Enrolment(email="ANA@example.ORG", confirmed=True))
    assert _subscriber_keys(svc.redis) == [keys.subscriber(first.id).encode()]
    assert svc.store.id_for("+13125550143") is None
    assert svc.store.find("ana@EXAMPLE.org") == first


def test_two_creates_racing_for_one_phone_exactly_one_wins(console_services: Services) -> None:
    svc = console_services
    for n in range(20):
        phone = f"+1312555{n:04d}"
        barrier = threading.Barrier(2)
        outcomes: list[str] = []

        def create(phone: str = phone, barrier: threading.Barrier = barrier,
                   outcomes: list[str] = outcomes) -> None:
            barrier.wait()
            try:
                outcomes.append(_sub(svc, phone=phone).id)
            except AlreadySubscribed:
                outcomes.append("refused")

        run_threads([create, create])
        assert sorted(outcomes)[-1] == "refused", outcomes
        winner = sorted(outcomes)[0]
        assert svc.store.id_for(phone) == winner
    assert len(_subscriber_keys(svc.redis)) == 20


class _RivalStore(Store):
    """A Store whose first create lets `rival` run between its index check and its EXEC."""

    def __init__(self, client: redis.Redis, rival: Any) -> None:
        super().__init__(client)
        self.rival = rival

    def _write(self, pipe: Any, sub: Subscriber, events: Sequence[ConsentEvent],
               now: datetime) -> None:
        if self.rival is not None:
            rival, self.rival = self.rival, None
            rival()  # on its own connection, while our WATCH is on
        super()._write(pipe, sub, events, now)


def _same_bucket_phones() -> tuple[str, str]:
    first = "+13125550100"
    bucket = keys.phone_index(first).key
    for n in itertools.count(101):
        other = f"+1312555{n:04d}"
        if keys.phone_index(other).key == bucket:
            return first, other
    raise AssertionError("unreachable")


def test_a_create_that_loses_the_race_is_refused(console_services: Services) -> None:
    svc = console_services
    winner: list[Subscriber] = []
    racing = _RivalStore(svc.redis, lambda: winner.append(_sub(svc, phone="+13125550100")))
    with pytest.raises(AlreadySubscribed):
        enrol(racing, svc.settings, Enrolment(phone="+13125550100", confirmed=True))
    assert _subscriber_keys(svc.redis) == [keys.subscriber(winner[0].id).encode()]
    assert svc.store.id_for("+13125550100") == winner[0].id


def test_a_create_sharing_a_bucket_with_another_is_retried_not_refused(
        console_services: Services) -> None:
    svc = console_services
    mine, theirs = _same_bucket_phones()
    other: list[Subscriber] = []
    racing = _RivalStore(svc.redis, lambda: other.append(_sub(svc, phone=theirs)))
    sub = enrol(racing, svc.settings, Enrolment(phone=mine, confirmed=True))
    assert racing.rival is None  # the rival did run in between
    assert svc.store.id_for(mine) == sub.id and svc.store.id_for(theirs) == other[0].id
    assert svc.store.get(sub.id) == sub


def test_changing_a_phone_or_email_frees_the_old_one(console_services: Services) -> None:
    svc = console_services
    sub = _sub(svc, email="old@example.org", channel="both")
    changed = svc.store.save(sub, sub.with_changes(phone="+13125550199",
                                                   email="new@example.org"))
    assert svc.store.id_for("+13125550142") is None
    assert svc.store.id_for("old@example.org") is None
    assert svc.store.find("+13125550199") == changed
    assert svc.store.find("new@example.org") == changed
    someone = _sub(svc, email="old@example.org", channel="both")  # the old ones are free
    assert svc.store.find("+13125550142") == someone
    assert svc.store.find("old@example.org") == someone
    with pytest.raises(AlreadySubscribed):  # and the new ones are taken
        svc.store.save(someone, someone.with_changes(phone="+13125550199"))
    assert svc.store.get(someone.id) == someone


def test_forget_removes_the_index_entries(console_services: Services) -> None:
    svc = console_services
    keep = _sub(svc, phone="+13125550143")
    sub = _sub(svc, email="gone@example.org", channel="both")
    svc.store.delete(sub, suppress=False)
    assert svc.store.id_for("+13125550142") is None
    assert svc.store.id_for("gone@example.org") is None
    assert svc.store.find("+13125550143") == keep
    entry = keys.phone_index("+13125550142")
    assert not svc.redis.hexists(entry.key, entry.field)
    assert list(svc.redis.scan_iter(match=keys.email_index_pattern())) == []
    phones = list(svc.redis.scan_iter(match=keys.phone_index_pattern()))
    assert phones == [keys.phone_index("+13125550143").key.encode()]
    again = _sub(svc, email="gone@example.org", channel="both")
    assert svc.store.find("gone@example.org") == again
