"""Counts kept with the records (storage/tally.py) and the name index (storage/names.py): every
kind of write moves them, a recount finds no drift, and a record changed behind the service's
back shows up as drift that the recount corrects."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, time, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reminders.app.care import flags
from reminders.app.people import preferences
from reminders.app.people.forget import forget
from reminders.app.people.preferences import Enrolment
from reminders.app.records import stats
from reminders.domain.states import SmsStatus
from reminders.domain.subscriber import Subscriber
from reminders.storage import keys, names, tally
from reminders.wiring import Services

ZONE = "America/Chicago"


def enrol(svc: Services, phone: str | None = None, email: str | None = None, name: str = "",
          channel: str | None = None, language: str | None = None, cause: str | None = None,
          zone: str = ZONE) -> Subscriber:
    return preferences.enrol(svc.store, svc.settings, Enrolment(
        phone=phone, email=email, name=name, channel=channel, timezone=zone, time="20:00",
        confirmed=True, language=language, cause=cause))


def test_every_kind_of_write_moves_the_counts(console_services: Services) -> None:
    svc = console_services
    now = datetime.now(UTC)
    ana = enrol(svc, "+13125550101", name="Ana", language="es", cause="diabetes")
    bo = enrol(svc, "+13125550102", name="Bo", cause="cancer_treatment")
    cy = enrol(svc, email="cy@example.org", name="Cy", zone="Asia/Tokyo")
    dee = enrol(svc, "+13125550104", email="dee@example.org", channel="both", name="Dee")
    gone = enrol(svc, "+13125550105", name="Gone")
    # A text STOP (the opt-out script), a preference change, a pause, a flag, a forget.
    assert svc.inbound(now).handle("+13125550102", "STOP") is None
    dee = preferences.change(svc.store, dee, {"channel": "email"})
    preferences.change(svc.store, ana, {"paused_until": now.date() + timedelta(days=2)})
    flags.record(svc.store, svc.store.require("+13125550101"), "blister", "same_day",
                 "a blister on my heel", now)
    forget(svc.store, gone, now)

    kept = tally.read(svc.redis)
    assert kept.total == 4
    assert kept.of("sms") == {"active": 2, "opted_out": 1, "none": 1}
    assert kept.of("email") == {"none": 2, "active": 2}
    assert kept.of("channel") == {"sms": 2, "email": 2}
    assert kept.of("language") == {"es": 1, "en": 3}
    assert kept.of("cause") == {"diabetes": 1, "cancer_treatment": 1, "none": 2}
    assert kept.of("zone") == {ZONE: 3, "Asia/Tokyo": 1}
    assert kept.of("flag") == {"open": 1}
    assert kept.of("state") == {"active/none": 1, "opted_out/none": 1, "none/active": 1,
                                "active/active": 1}  # Dee's SMS stays active, unused
    assert tally.paused_on(svc.redis, now.date()) == 1
    assert tally.paused_on(svc.redis, now.date() + timedelta(days=3)) == 0
    assert stats.recount(svc.store, now).fields == {}

    # The flag closed by an operator: out of the count, and of the flagged names.
    flags.clear(svc.store, svc.store.require("+13125550101"), "called", "op", now)
    assert tally.read(svc.redis).of("flag") == {}
    assert names.page(svc.redis, ["flagged"], b"", 0, 10) == []
    everyone = ["active/none", "opted_out/none", "none/active", "active/active"]
    assert names.page(svc.redis, everyone, b"", 0, 10) == [ana.id, bo.id, cy.id, dee.id]
    assert names.page(svc.redis, everyone, b"", 1, 2) == [bo.id, cy.id]
    assert stats.recount(svc.store, now).fields == {}


def test_a_recount_reports_drift_and_corrects_it(console_services: Services) -> None:
    svc = console_services
    now = datetime.now(UTC)
    one = enrol(svc, "+13125550111", name="One")
    two = enrol(svc, "+13125550112", name="Two")
    # Behind the service's back: a language written straight into one hash, another hash
    # deleted (as an older version or a hand-made fix would).
    svc.redis.hset(keys.subscriber(one.id), "l", "es")
    svc.redis.delete(keys.subscriber(two.id))

    drift = stats.recount(svc.store, now)
    started = datetime.fromisoformat(one.created_at.replace("Z", "+00:00"))
    week = (int(started.timestamp()) - 1_704_067_200) // 604_800  # weeks since 2024-01-01
    assert drift.records == 1
    assert drift.fields == {
        "cause:none": (2, 1), "channel:sms": (2, 1), "email:none": (2, 1),
        "language:en": (2, 0), "language:es": (0, 1), "sms:active": (2, 1),
        "state:active/none": (2, 1), "total": (2, 1), f"zone:{ZONE}": (2, 1),
        f"cohort:{week}/on/en/none": (2, 0), f"cohort:{week}/on/es/none": (0, 1),
        "names:extra": (1, 0)}  # Two, still in the name index
    assert drift.names_ids == (two.id,)
    kept = tally.read(svc.redis)
    assert kept.total == 1 and kept.of("language") == {"es": 1}
    assert names.page(svc.redis, ["active/none"], b"", 0, 10) == [one.id]
    assert stats.recount(svc.store, now).fields == {}


def test_the_name_index_folds_names_as_search_does(console_services: Services) -> None:
    svc = console_services
    typed = {"+13125550121": "José Ñúñez", "+13125550122": "  ANA   María ",
             "+13125550123": "Zoë 🦶 Ångström", "+13125550124": "A" * 40}
    ids = {phone: enrol(svc, phone, name=name).id for phone, name in typed.items()}
    stored = set(names.members(svc.redis, "active/none"))
    assert stored == {names.member(names.key(typed[p]), i) for p, i in ids.items()}
    assert {names.subscriber_id(m) for m in stored} == set(ids.values())
    assert names.key("José Ñúñez") == b"jose nunez"
    assert names.key("  ANA   María ") == b"ana maria"
    assert names.key("Zoë 🦶 Ångström") == "zoe 🦶 angstrom".encode()
    assert names.key("A" * 40) == b"a" * 32
    # What an operator types finds them, accents or not.
    for query, phone in (("jose n", "+13125550121"), ("ANA MARIA", "+13125550122"),
                         ("zoë", "+13125550123")):
        assert names.page(svc.redis, ["active/none"], names.key(query), 0, 5) == [ids[phone]]


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(name=st.text(alphabet=st.characters(max_codepoint=0x1F9FF, exclude_categories=("Cs",)),
                    max_size=40))
def test_the_lua_fold_and_the_python_fold_agree(console_services: Services, name: str) -> None:
    """Whatever a name holds (accents, capitals, tabs, emoji, 40 characters), the member the
    scripts store starts with names.key(name): the search's own reading of it."""
    svc = console_services
    n = next(EXAMPLES)
    sub = Subscriber(id=f"{100_000_000 + n}", phone=f"+1312555{n:04d}", email=None,
                     name=name, timezone=ZONE, send_time=time(20, 0),
                     channels=frozenset({"sms"}), sms_status=SmsStatus.ACTIVE)
    svc.store.create(sub, [])
    stored = {m for m in names.members(svc.redis, "active/none")
              if names.subscriber_id(m) == sub.id}
    assert stored == {names.member(names.key(name), sub.id)}


EXAMPLES = itertools.count()
