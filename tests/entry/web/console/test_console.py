"""The console's pages do what the matching commands do, and say who did it in the audit log."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from reminders.app.evenings import capacity
from reminders.app.people.preferences import Enrolment, enrol
from reminders.entry.web.app import create_app
from reminders.wiring import Services
from tests.console_client import OPERATOR, Console, add_operator, console_with_person, logged_in
from tests.snapshot import differences, snapshot

PHONE = "+13125550140"


@pytest.fixture
def console(console_services: Services) -> Console:
    return console_with_person(console_services, PHONE, email="ana@example.org")


def last_event(svc: Services, phone: str) -> dict[str, str]:
    return svc.store.consent_history(svc.store.require(phone).id)[-1]


def test_changing_a_time_saves_it_reschedules_and_names_the_operator(
        console: Console, console_services: Services) -> None:
    svc = console_services
    before = svc.store.next_due(svc.store.require(PHONE).id)
    page = console.get(f"/console/people/{PHONE}").get_data(as_text=True)
    assert 'value="20:00"' in page and "Ana Lima" in page
    response = console.post(f"/console/people/{PHONE}", {"time": "20:15", "name": "Ana Lima"})
    assert response.status_code == 302
    sub = svc.store.require(PHONE)
    assert sub.send_time.strftime("%H:%M") == "20:15" and sub.name == "Ana Lima"
    assert svc.store.next_due(sub.id) != before
    event = last_event(svc, PHONE)
    assert (event["channel"], event["action"], event["source"]) == (
        "console", "console_set", "console")
    assert event["words"] == f"{OPERATOR}: time=20:15"
    assert "Saved: time." in console.get(f"/console/people/{PHONE}").get_data(as_text=True)


def test_a_bad_value_is_refused_with_a_clear_error_and_nothing_changes(
        console: Console, console_services: Services) -> None:
    svc = console_services
    events = len(svc.store.consent_history(svc.store.require(PHONE).id))
    response = console.post(f"/console/people/{PHONE}", {"time": "03:00", "name": "Bo"})
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "Not saved:" in body and "16:00" in body  # says the allowed window
    assert 'value="03:00"' in body  # what they typed stays in the form
    sub = svc.store.require(PHONE)
    assert (sub.send_time.strftime("%H:%M"), sub.name) == ("20:00", "Ana Lima")
    assert len(svc.store.consent_history(sub.id)) == events
    unknown = console.get("/console/people/+13125550999")
    assert unknown.status_code == 404 and "Nobody has" in unknown.get_data(as_text=True)


def test_clearing_a_flag_with_a_note_says_who_and_when(console: Console,
                                                       console_services: Services) -> None:
    svc = console_services
    svc.inbound(datetime.now(UTC)).handle(PHONE, "there is a blister on my left heel")
    page = console.get("/console/flags").get_data(as_text=True)
    assert "blister on my left heel" in page and "Ana Lima" in page
    sub = svc.store.require(PHONE)
    # Without an outcome nothing closes: the flag and its review item stay open.
    refused = console.post("/console/flags", {"person": sub.id, "note": "called, seeing GP"})
    assert refused.status_code == 302
    assert svc.store.require(PHONE).flag_until is not None
    assert "Not cleared: outcome must be one of" in console.get("/console/flags").get_data(
        as_text=True)
    response = console.post("/console/flags", {"person": sub.id, "note": "called, seeing GP",
                                               "outcome": "referred"})
    assert response.status_code == 302
    assert svc.store.require(PHONE).flag_until is None
    event = last_event(svc, PHONE)
    assert (event["action"], event["source"]) == ("flag_cleared", "console")
    assert event["words"] == f"{OPERATOR}: referred: called, seeing GP" and event["at"]
    [item] = svc.reviews.inbox(include_closed=True)
    assert (item["kind"], item["state"], item["outcome"], item["owner"]) == (
        "flag", "closed", "referred", OPERATOR)
    after = console.get("/console/flags").get_data(as_text=True)
    assert "No open reports." in after and f"Cleared the flag ({OPERATOR}" in after


def test_people_search_filters_and_pages(console: Console,
                                         console_services: Services) -> None:
    svc = console_services
    for n in range(120):
        enrol(svc.store, svc.settings, Enrolment(phone=f"+1312555{2000 + n:04d}",
                                                 name=f"Person {n:03d}", confirmed=n % 2 == 0))
    first = console.get("/console/people?q=person").get_data(as_text=True)
    assert "120 found; page 1 of 3" in first and "Person 000" in first
    assert "Person 050" not in first
    third = console.get("/console/people?q=person&page=3").get_data(as_text=True)
    assert "Person 119" in third and "Next page" not in third
    pending = console.get("/console/people?state=sms:pending").get_data(as_text=True)
    assert "60 found" in pending
    # The start of a name within a state: Person 001, 003, ... 009 are the pending ones.
    both = console.get("/console/people?q=PERSON+00&state=sms:pending").get_data(as_text=True)
    assert "5 found" in both and "Person 009" in both and "Person 002" not in both
    by_number = console.get("/console/people?q=(312) 555-2007").get_data(as_text=True)
    assert "1 found" in by_number and "Person 007" in by_number
    by_email = console.get("/console/people?q=ANA@example.org").get_data(as_text=True)
    assert "1 found" in by_email and "Ana Lima" in by_email
    svc.inbound(datetime.now(UTC)).handle("+13125552003", "my foot is swollen")
    flagged = console.get("/console/people?state=flagged").get_data(as_text=True)
    assert "1 found" in flagged and "Person 003" in flagged
    bad = console.get("/console/people?state=nonsense")
    assert bad.status_code == 200 and "unknown state filter" in bad.get_data(as_text=True)


def test_tonight_shows_who_is_due_and_the_nights(console: Console,
                                                 console_services: Services) -> None:
    svc = console_services
    sub = svc.store.require(PHONE)
    svc.sender.deliver(sub.id, datetime.now(UTC).date(), datetime.now(UTC), ignore_late=True)
    from datetime import timedelta

    from reminders.entry.cli.runner import demo_zone

    soon = (datetime.now(UTC) + timedelta(minutes=30)).replace(second=0, microsecond=0)
    zone, local = demo_zone(soon)
    capacity.due_load(svc.store, datetime.now(UTC))  # the dispatcher's periodic check
    for n in range(3):
        enrol(svc.store, svc.settings, Enrolment(phone=f"+1312555{4000 + n:04d}",
                                                 name=f"Soon {n}", confirmed=True,
                                                 timezone=zone, time=local.strftime("%H:%M")))
    # The counts are the due index as the dispatcher's periodic check last counted it (made
    # before the three were enrolled); the people listed are read from the index itself.
    before = console.get("/console/").get_data(as_text=True)
    counted = re.search(r"(\d+) people due until", before)
    assert counted and "as counted at" in before
    assert all(f"Soon {n}" in before for n in range(3))
    capacity.due_load(svc.store, datetime.now(UTC))  # the dispatcher's next check
    body = console.get("/console/").get_data(as_text=True)
    assert f"{int(counted.group(1)) + 3} people due until" in body
    assert all(f"Soon {n}" in body for n in range(3))
    hours = body[body.index('aria-label="Due per hour"'):]
    assert f"<th scope=\"col\">{soon:%H}</th>" in hours and "font-weight:700\">" in hours
    assert "Due per hour, next 24 hours" in body and "<svg" in body
    assert "Last 14 nights" in body and body.count("<tr><td>20") >= 14
    assert "sent (solid), delivered (stripes)" in body  # readable without colour


def test_tonight_pages_through_everyone_due_before_the_evening_window_ends(
        console: Console, console_services: Services) -> None:
    from datetime import timedelta

    from reminders.app.console.tonight import PER_PAGE
    from reminders.entry.cli.runner import demo_zone

    svc = console_services
    # 55 people due in 20 minutes, and 5 more in three hours (still tonight, in their zone):
    # every one of them listed once, earliest first, 50 a page; the edit form on each page.
    people = []
    for n, minutes in enumerate([20] * 55 + [180] * 5):
        when = (datetime.now(UTC) + timedelta(minutes=minutes)).replace(second=0,
                                                                        microsecond=0)
        zone, local = demo_zone(when)
        people.append(enrol(svc.store, svc.settings, Enrolment(
            phone=f"+1312555{5000 + n:04d}", name=f"Due {n:02d}", confirmed=True,
            timezone=zone, time=local.strftime("%H:%M"))))
    # No count kept (no dispatcher): each view counts for itself, and writes nothing.
    before = snapshot(svc.redis)
    first = console.get("/console/").get_data(as_text=True)
    assert differences(before, snapshot(svc.redis)) == []
    link = re.search(r'<a rel="next" href="([^"]+)">Next page</a>', first)
    assert link and "Page 1 of " in first, first[:3000]
    second = console.get(link.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert "Page 2 of " in second and 'rel="first"' in second
    names = [re.findall(r"<td>(Due \d\d)</td>", page) for page in (first, second)]
    assert len(names[0]) == PER_PAGE
    expected = [sub.name for sub in sorted(
        (sub for sub in people if svc.store.next_due(sub.id) is not None),
        key=lambda sub: (svc.store.next_due(sub.id), sub.id))]
    assert expected and [n for n in names[0] + names[1] if n in expected] == expected
    # A Tonight row's form on page 2 keeps that page after a save.
    form = second[second.index('action="/console/tonight/'):][:600]
    assert 'name="after" value="' in form and 'name="page" value="2"' in form
    assert console.get("/console/?page=zz&after=nonsense").status_code == 200


def test_a_persons_delivery_report_downloads_as_csv(console: Console,
                                                    console_services: Services) -> None:
    import csv

    from reminders.app.sending import delivery_status
    from reminders.storage import nights

    svc = console_services
    sub = svc.store.require(PHONE)
    now = datetime.now(UTC)
    today = now.astimezone(ZoneInfo(sub.timezone)).date()
    svc.sender.deliver(sub.id, today, now, ignore_late=True)
    sid = nights.read(svc.redis, sub.id, today)["sms_id"]
    assert delivery_status.advance(svc.store, sid, "undelivered", "30003")[0]
    svc.inbound(now).handle(PHONE, "7")
    page = console.get(f"/console/people/{PHONE}").get_data(as_text=True)
    assert "deliveries.csv?days=90" in page
    response = console.get(f"/console/people/{PHONE}/deliveries.csv?days=3")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert 'filename="deliveries-13125550140.csv"' in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(response.get_data(as_text=True).splitlines()))
    assert [row["date"] for row in rows] == [
        (today - timedelta(days=n)).isoformat() for n in (2, 1, 0)]
    assert {k: rows[-1][k] for k in ("outcome", "sms", "sms_status", "sms_error", "score")} == {
        "outcome": "failed", "sms": "sent", "sms_status": "undelivered", "sms_error": "30003",
        "score": "7"}
    assert rows[0]["outcome"] == "" and rows[0]["sms"] == ""
    assert console.get("/console/people/+19999999999/deliveries.csv").status_code == 404
    assert console.get(f"/console/people/{PHONE}/deliveries.csv?days=x").status_code == 200


def test_send_now_sends_once_and_is_audited(console: Console,
                                            console_services: Services) -> None:
    svc = console_services
    outbox = svc.settings.outbox_dir
    for _ in range(2):
        assert console.post(f"/console/people/{PHONE}/send-now").status_code == 302
    page = console.get(f"/console/people/{PHONE}").get_data(as_text=True)
    assert "Send now: sms: already sent" in page or "Send now: sms: sent" in page
    texts = [p for p in outbox.rglob("*") if p.is_file() and "sms" in p.name.lower()]
    assert len(texts) == 1, texts


def test_tonight_highlights_the_minutes_the_capacity_forecast_says_are_at_risk(
        base_env: dict[str, str]) -> None:
    from datetime import timedelta

    from reminders.entry.cli.runner import demo_zone
    from tests.conftest import make_services

    svc = make_services({**base_env, "TWILIO_MPS": "0.05", "LATE_LIMIT_MINUTES": "1"})
    add_operator(svc)
    target = (datetime.now(UTC) + timedelta(hours=2)).replace(second=0, microsecond=0)
    zone, local = demo_zone(target)
    for n in range(6):  # 12 segments at 0.05 per second: the last goes out 4 minutes late
        enrol(svc.store, svc.settings, Enrolment(phone=f"+1312555{3000 + n:04d}",
                                                 confirmed=True, timezone=zone,
                                                 time=local.strftime("%H:%M")))
    body = logged_in(create_app(svc)).get("/console/").get_data(as_text=True)
    assert "AT RISK: some people would be missed" in body
    row = body[body.index(f"<td>{target:%a %H:%M}</td>") - 40:][:400]
    assert 'class="risk"' in row and "<td>6</td>" in row and "AT RISK</td>" in row, row


def test_the_person_page_shows_the_caregiver_and_what_the_link_waits_for(
        console: Console, console_services: Services) -> None:
    svc = console_services
    page = console.get(f"/console/people/{PHONE}").get_data(as_text=True)
    assert "<h2>Caregiver</h2>" in page and "None." in page
    sub = svc.store.require(PHONE)
    svc.caregivers(datetime.now(UTC)).add(sub, "+13125550199", "<b>Rosa</b>")
    page = console.get(f"/console/people/{PHONE}").get_data(as_text=True)
    assert "&lt;b&gt;Rosa&lt;/b&gt;" in page and "<b>Rosa</b>" not in page
    assert "+13125550199" in page
    assert "waiting for both: the caregiver must reply YES" in page
