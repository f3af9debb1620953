"""Doubt outweighs a negation: "no blister I think, not sure" is read as a possible blister.

People with neuropathy often cannot feel a wound, so a hedged "no" is not an all-clear: the foot
flag opens (the same-day answer, a call from the clinic, no massage or heat), as the foot-care
guidance asks for any possible wound, infection, swelling or colour change ("when unsure, raise
the flag"). A plain, certain negation lowers it, and so does a doubt about something else in
another sentence, or a word that says how much rather than whether ("a little dry").

Asserted through the inbound handler the webhook uses, on a real Redis: the reply, the open flag
the report lists, and the inbox item kept for the care team (domain/triage_read.py).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from reminders.app.people.preferences import Enrolment, enrol
from reminders.app.records.person_json import describe
from reminders.storage import inbox
from reminders.wiring import Services

PHONE = "+13125550142"
NOW = datetime(2027, 1, 9, 3, 0, tzinfo=UTC)  # 21:00 in Chicago


@pytest.fixture(params=["en", "es"])
def person(request: pytest.FixtureRequest, console_services: Services) -> Services:
    enrol(console_services.store, console_services.settings, Enrolment(
        phone=PHONE, name="Ana Ruiz", timezone="America/Chicago", time="20:00", confirmed=True,
        language=request.param), NOW - timedelta(days=30))
    return console_services


def flags(svc: Services) -> list[dict[str, str]]:
    return describe(svc.store, svc.store.require(PHONE), NOW)["flags"]


def kept(svc: Services) -> list[tuple[str, str, str]]:
    return [(i.level, i.category, i.text) for _, i in inbox.read(svc.redis)]


@pytest.mark.parametrize(("text", "category"), [
    ("No blister I think, but not sure", "wound"),
    ("maybe not infected, hard to say", "infection"),
    ("i think its not infected?? hard to tell", "infection"),
    ("no swelling maybe, cant really tell", "swelling"),
    ("creo que no tengo ampolla pero no estoy segura", "wound"),
    ("tal vez no esta hinchado, no se", "swelling"),
])
def test_a_hedged_negation_still_raises_the_flag(person: Services, text: str,
                                                 category: str) -> None:
    reply = person.inbound(NOW).handle(PHONE, text)
    found = flags(person)
    assert [(f["category"], f["text"]) for f in found] == [(category, text)], (text, found)
    assert reply is not None
    # The same-day answer in the person's language, never the good-report one.
    assert ("foot clinic today" in reply and "no massage or heat" in reply) or (
        "llame hoy" in reply.lower() and "sin masaje ni calor" in reply), reply
    assert "glad your feet" not in reply and "Gracias" not in reply, reply
    assert kept(person) == [("same_day", category, text)]


@pytest.mark.parametrize("text", [
    "No blister, feet look fine tonight",
    "not infected, the cut healed",
    "no swelling today DONE",
    "no blisters today",
    "No blisters. Not sure about the dry skin though",  # the doubt is about the skin
    "no cuts, my heels are a little dry",  # how much, not whether
    "no tengo ampollas hoy",
])
def test_a_plain_negation_raises_nothing(person: Services, text: str) -> None:
    reply = person.inbound(NOW).handle(PHONE, text)
    assert flags(person) == [], text
    assert reply is not None and "no massage or heat" not in reply, reply
    assert "sin masaje ni calor" not in reply, reply
    assert [k for k in kept(person) if k[0] in ("urgent", "same_day")] == [], text
