"""Doubt outweighs a negation: "no blister I think, not sure" is read as a possible blister.

People with neuropathy often cannot feel a wound, so a hedged "no" is not an all-clear: the flag
is raised (one safety reply and a call from the clinic), as the foot-care guidance asks for any
possible wound, infection or colour change. A plain, certain negation lowers it. Asserted on the
open flag recorded for the person (Redis, read through the report) and on the reply.

Tied to the red-flag rules of reminders/domain/redflags.py (the mutant list names it).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from reminders.app.preferences import Enrolment, enrol
from reminders.app.report import describe
from reminders.wiring import Services

PHONE = "+13125550142"
NOW = datetime(2027, 1, 9, 3, 0, tzinfo=UTC)  # 21:00 in Chicago


@pytest.fixture
def person(console_services: Services) -> Services:
    enrol(console_services.store, console_services.settings, Enrolment(
        phone=PHONE, name="Ana Ruiz", timezone="America/Chicago", time="20:00", confirmed=True),
        NOW - timedelta(days=30))
    return console_services


def flags(svc: Services) -> list[dict[str, str]]:
    return describe(svc.store, svc.store.require(PHONE), NOW)["flags"]


@pytest.mark.parametrize(("text", "category"), [
    ("No blister I think, but not sure", "wound"),
    ("maybe not infected, hard to say", "infection"),
    ("i think its not infected?? hard to tell", "infection"),
    ("no swelling maybe, cant really tell", "swelling"),
    ("creo que no tengo ampolla pero no estoy segura", "wound"),
])
def test_a_hedged_negation_still_raises_the_flag(person: Services, text: str,
                                                 category: str) -> None:
    reply = person.inbound(NOW).handle(PHONE, text)
    found = flags(person)
    assert len(found) == 1 and found[0]["category"] == category, (text, found)
    assert reply, text


@pytest.mark.parametrize("text", [
    "No blister, feet look fine tonight",
    "not infected, the cut healed",
    "no swelling today DONE",
])
def test_a_plain_negation_raises_nothing(person: Services, text: str) -> None:
    person.inbound(NOW).handle(PHONE, text)
    assert flags(person) == [], text
