"""The console's person form and `reminders set`: frequency, routine days and temperature
monitoring; the person page's TEMP differences; the weekly summary's LESS line and TEMP gap."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest

from reminders.app.evenings.weekly import week_facts
from reminders.app.people.preferences import Enrolment, enrol
from reminders.domain.temperature import Reading, Unit
from reminders.storage import temps
from reminders.wiring import Services
from tests.conftest import Cli
from tests.console_client import Console, console_with_person

PHONE = "+13125550140"


@pytest.fixture
def console(console_services: Services) -> Console:
    return console_with_person(console_services, PHONE)


def test_the_form_sets_the_lighter_schedule_and_temp_monitoring(
        console: Console, console_services: Services) -> None:
    svc = console_services
    page = console.get(f"/console/people/{PHONE}").get_data(as_text=True)
    assert 'name="frequency"' in page and 'name="temp_monitoring"' in page
    response = console.post(f"/console/people/{PHONE}", {
        "frequency": "lighter", "routine_days": "tue,thu", "temp_monitoring": "yes",
        "name": "Ana Lima"})
    assert response.status_code == 302
    sub = svc.store.require(PHONE)
    assert (sub.frequency, sub.routine_days, sub.temp_monitoring) == ("lighter", (1, 3), True)
    actions = [(e["action"], e["source"]) for e in svc.store.consent_history(sub.id)]
    assert ("frequency_lighter:tue,thu", "console") in actions
    assert ("console_set", "console") in actions


@pytest.mark.parametrize("days", ["mon tue wed thu fri sat sun", "funday", ""])
def test_bad_routine_days_are_refused_and_nothing_changes(
        console: Console, console_services: Services, days: str) -> None:
    svc = console_services
    before = svc.store.require(PHONE)
    response = console.post(f"/console/people/{PHONE}", {
        "frequency": "lighter", "routine_days": days, "name": "Ana Lima"})
    assert response.status_code == 400
    assert "Not saved:" in response.get_data(as_text=True)
    assert svc.store.require(PHONE) == before


def test_the_person_page_shows_temperature_differences(
        console: Console, console_services: Services) -> None:
    svc = console_services
    sub = svc.store.require(PHONE)
    temps.save(svc.redis, sub.id, date(2027, 3, 1), Reading(88.0, 92.5, Unit.F))
    temps.save(svc.redis, sub.id, date(2027, 3, 2), Reading(31.0, 31.4, Unit.C))
    page = console.get(f"/console/people/{PHONE}").get_data(as_text=True)
    assert "Foot temperatures (TEMP)" in page
    assert "<td>2027-03-01</td><td>2.5</td><td>yes</td>" in page
    assert "<td>2027-03-02</td><td>0.4</td><td>no</td>" in page


def test_set_from_the_command_line(twilio_cli: Cli) -> None:
    assert twilio_cli("subscribe", PHONE, "--confirmed", "--timezone",
                      "America/Chicago").returncode == 0
    done = twilio_cli("set", PHONE, "frequency=lighter", "routine_days=lun,mie,vie",
                      "temp_monitoring=true")
    assert done.returncode == 0, done.stderr
    shown = json.loads(twilio_cli("show", PHONE, "--json").stdout)
    assert (shown["frequency"], shown["routine_days"], shown["temp_monitoring"]) == (
        "lighter", "mon,wed,fri", True)
    bad = twilio_cli("set", PHONE, "frequency=weekly")
    assert bad.returncode == 2 and "frequency" in bad.stderr


def test_weekly_summary_mentions_less_and_the_temperature_gap(
        console_services: Services) -> None:
    svc = console_services
    sub = enrol(svc.store, svc.settings, Enrolment(phone=PHONE, confirmed=True,
                                                   timezone="America/Chicago"))
    summary = date(2027, 3, 7)  # a Sunday
    for n, gap in ((1, 0.6), (2, 2.5)):
        temps.save(svc.redis, sub.id, summary - timedelta(days=n), Reading(30.0, 30.0 + gap,
                                                                            Unit.C))
    temps.save(svc.redis, sub.id, summary - timedelta(days=20), Reading(30.0, 34.0, Unit.C))
    facts = week_facts(svc.store, sub, summary)
    assert facts.temp_gaps == (2.5, 0.6)
    for language, less, gap in (("en", "Reply LESS", "0.6 to 2.5 C"),
                                ("es", "Responda MENOS", "0.6 a 2.5 C")):
        body = svc.weekly.texts.in_language(language).person_sms(facts)
        assert gap in body and less in body, body
    lighter = svc.store.save(sub, sub.with_changes(frequency="lighter"), [], datetime.now(UTC))
    body = svc.weekly.texts.person_sms(week_facts(svc.store, lighter, summary))
    assert "LESS" not in body and "2.5 C" in body, body
