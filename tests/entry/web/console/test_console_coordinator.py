"""A coordinator's work without a shell: enrol one person (the double opt-in text goes out),
ask the people still pending (one, selected, all; once a day each), add and remove a caregiver.
Through the web app (Flask's test client, a logged-in operator), texts at the fake Twilio."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from reminders.app.people.preferences import Enrolment, enrol
from reminders.entry.web.app import create_app
from reminders.wiring import Services
from testing.twilio_api import FakeTwilio
from tests.conftest import CeleryProcess, wait_until
from tests.console_client import OPERATOR, Console, add_operator, logged_in

ANA, BO, CY = "+13125550140", "+13125550141", "+13125550142"


@pytest.fixture
def console(twilio_services: Services) -> Console:
    add_operator(twilio_services)
    return logged_in(create_app(twilio_services))


def texts_to(fake: FakeTwilio, phone: str) -> list[str]:
    return [m.body for m in fake.messages if m.to == phone]


def test_enrol_one_person_sends_the_double_opt_in_text(console: Console, fake_twilio: FakeTwilio,
                                                       twilio_services: Services) -> None:
    form = console.get("/console/enrol").get_data(as_text=True)
    assert '<option value="America/Chicago" selected>Central (Chicago, Dallas)</option>' in form
    response = console.post("/console/enrol", {
        "name": "Ana Lima", "phone": "(312) 555-0140", "timezone": "America/Chicago",
        "time": "19:30", "channel": "sms", "language": "es", "cause": "diabetes"})
    assert response.status_code == 302, response.get_data(as_text=True)
    sub = twilio_services.store.require(ANA)
    assert (sub.sms_status, sub.language, sub.timezone, sub.cause) == (
        "pending", "es", "America/Chicago", "diabetes")
    [asked] = texts_to(fake_twilio, ANA)
    assert "SI" in asked.upper() or "YES" in asked.upper()
    events = [e for e in twilio_services.store.consent_history(sub.id)]
    assert any(e["source"] == "console" and OPERATOR in e["words"] for e in events)
    again = console.post("/console/enrol", {"name": "Ana", "phone": ANA, "time": "19:30"})
    assert again.status_code == 400 and "Not enrolled" in again.get_data(as_text=True)
    bad = console.post("/console/enrol", {"name": "X", "phone": "12", "time": "7pm"})
    assert bad.status_code == 400 and 'value="X"' in bad.get_data(as_text=True)


def test_ask_pending_people_selected_or_all_once_a_day(console: Console,
                                                        fake_twilio: FakeTwilio,
                                                        twilio_services: Services) -> None:
    svc = twilio_services
    for phone, name in ((ANA, "Ana"), (BO, "Bo")):
        enrol(svc.store, svc.settings, Enrolment(phone=phone, name=name, time="20:00"))
    enrol(svc.store, svc.settings, Enrolment(phone=CY, name="Cy", confirmed=True))
    page = console.get("/console/pending").get_data(as_text=True)
    assert "Ana" in page and "Bo" in page and "Cy" not in page
    ana = svc.store.require(ANA)
    assert console.post("/console/pending", {"person": ana.id}).status_code == 302
    assert len(texts_to(fake_twilio, ANA)) == 1 and texts_to(fake_twilio, BO) == []
    console.post("/console/pending", {"person": [ana.id, svc.store.require(BO).id]})
    assert len(texts_to(fake_twilio, ANA)) == 1  # asked today already
    assert len(texts_to(fake_twilio, BO)) == 1 and texts_to(fake_twilio, CY) == []
    flashed = console.get("/console/pending").get_data(as_text=True)
    assert "asked 1, 1 already asked today" in flashed
    console.post(f"/console/people/{BO}/confirm", {})
    assert len(texts_to(fake_twilio, BO)) == 1


def job_page(console: Console, location: str) -> str:
    """The job's page once it no longer refreshes itself."""
    pages: list[str] = []

    def ended() -> bool:
        pages.append(console.get(location).get_data(as_text=True))
        return 'http-equiv="refresh"' not in pages[-1]

    wait_until(ended, 60, "the asking job to end")
    return pages[-1]


def test_send_to_all_pending_is_a_job_on_a_worker_once_a_day_each(
        console: Console, fake_twilio: FakeTwilio, twilio_services: Services,
        twilio_env: dict[str, str], start_worker: Callable[..., CeleryProcess]) -> None:
    svc = twilio_services
    for phone, name in ((ANA, "Ana"), (BO, "Bo")):
        enrol(svc.store, svc.settings, Enrolment(phone=phone, name=name, time="20:00"))
    enrol(svc.store, svc.settings, Enrolment(phone=CY, name="Cy", confirmed=True))
    console.get("/console/pending")
    console.post("/console/pending", {"person": svc.store.require(ANA).id})
    assert len(texts_to(fake_twilio, ANA)) == 1
    # No worker yet: the request answers at once, nothing is sent in it, the page waits.
    console.get("/console/pending")
    queued = console.post("/console/pending", {"all": "1"})
    assert queued.status_code == 303 and "/console/pending/" in queued.headers["Location"]
    location = queued.headers["Location"]
    waiting = console.get(location).get_data(as_text=True)
    assert "Waiting for a worker" in waiting and 'http-equiv="refresh"' in waiting
    assert texts_to(fake_twilio, BO) == []
    # A second click while it waits is the same job, not another one.
    console.get("/console/pending")
    assert console.post("/console/pending", {"all": "1"}).headers["Location"] == location

    start_worker(twilio_env)
    done = job_page(console, location)
    assert "Done: asked 1, 1 already asked today" in done, done
    assert len(texts_to(fake_twilio, ANA)) == 1 and len(texts_to(fake_twilio, BO)) == 1
    assert texts_to(fake_twilio, CY) == []

    # Pressed again the same day: a new job, and nobody texted twice.
    console.get("/console/pending")
    again = console.post("/console/pending", {"all": "1"}).headers["Location"]
    assert again != location
    assert "Done: asked 0, 2 already asked today" in job_page(console, again)
    assert len(texts_to(fake_twilio, ANA)) == 1 and len(texts_to(fake_twilio, BO)) == 1
    listed = console.get("/console/import").get_data(as_text=True)
    assert f'href="{again}"' in listed.replace("http://localhost", "")
    assert console.get("/console/pending/0123456789abcdef").status_code == 404
    assert console.get("/console/pending/..%2f").status_code == 404


def test_add_and_remove_a_caregiver(console: Console, fake_twilio: FakeTwilio,
                                    twilio_services: Services) -> None:
    svc = twilio_services
    enrol(svc.store, svc.settings, Enrolment(phone=ANA, name="Ana Lima", confirmed=True))
    person = console.get(f"/console/people/{ANA}").get_data(as_text=True)
    assert "reminders caregiver" not in person and "Invite caregiver" in person
    console.post(f"/console/people/{ANA}/caregiver", {"caregiver_phone": "(312) 555-0199",
                                                      "caregiver_name": "Rosa"})
    assert texts_to(fake_twilio, "+13125550199")  # the invitation asks them to reply YES
    page = console.get(f"/console/people/{ANA}").get_data(as_text=True)
    assert "Rosa" in page and "waiting for" in page
    console.post(f"/console/people/{ANA}/caregiver/remove", {})
    assert "None. Invite one" in console.get(f"/console/people/{ANA}").get_data(as_text=True)
    console.post(f"/console/people/{ANA}/caregiver", {"caregiver_phone": "nope"})
    assert "Caregiver not added" in console.get(f"/console/people/{ANA}").get_data(
        as_text=True)




def test_the_person_page_says_times_in_their_zone_and_when_paused(
        console: Console, twilio_services: Services) -> None:
    svc = twilio_services
    enrol(svc.store, svc.settings, Enrolment(phone=ANA, name="Ana Lima", confirmed=True,
                                             time="20:00", timezone="America/Chicago"))
    page = console.get(f"/console/people/{ANA}").get_data(as_text=True)
    line = page.split("next reminder:")[1].split("·")[0]
    visible = re.sub(r"<[^>]*>", "", line)  # what the eye reads; UTC stays in the tooltip
    assert re.search(r"\d{4}-\d\d-\d\d 20:00 C[SD]T", visible), visible
    assert "Z" not in visible and "UTC" in line
    console.post(f"/console/people/{ANA}", {"paused_until": "2099-01-31", "name": "Ana Lima"})
    paused = console.get(f"/console/people/{ANA}").get_data(as_text=True)
    assert "paused until 2099-01-31" in paused.split("next reminder:")[1].split("·")[0]


def test_language_is_shown_and_changed_on_the_person_page(console: Console,
                                                          twilio_services: Services) -> None:
    svc = twilio_services
    enrol(svc.store, svc.settings, Enrolment(phone=ANA, name="Ana Lima", confirmed=True))
    page = console.get(f"/console/people/{ANA}").get_data(as_text=True)
    assert '<option value="en" selected>English</option>' in page
    console.post(f"/console/people/{ANA}", {"language": "es", "name": "Ana Lima"})
    assert svc.store.require(ANA).language == "es"
    assert '<option value="es" selected>Español</option>' in console.get(
        f"/console/people/{ANA}").get_data(as_text=True)
