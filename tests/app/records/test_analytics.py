"""`reminders analytics`: retention by program week and why people stopped, from people
enrolled at known dates and stopped in each way the service knows."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from reminders.app.people import email_consent, preferences
from reminders.app.people.preferences import Enrolment
from reminders.wiring import Services
from tests.conftest import Cli

NOW = datetime.now(UTC)


def enrol(svc: Services, phone: str | None, weeks_ago: int, email: str | None = None,
          language: str | None = None, cause: str | None = None,
          confirmed: bool = True) -> None:
    preferences.enrol(svc.store, svc.settings, Enrolment(
        phone=phone, email=email, timezone="America/Chicago", time="20:00",
        confirmed=confirmed, language=language, cause=cause),
        now=NOW - timedelta(weeks=weeks_ago))


def test_retention_by_week_and_why_people_stopped(cli: Cli, console_services: Services) -> None:
    svc = console_services
    # Started 4 weeks ago: three (one Spanish on cancer treatment), one of whom replied STOP.
    enrol(svc, "+13125550101", 4)
    enrol(svc, "+13125550102", 4, language="es", cause="cancer_treatment")
    enrol(svc, "+13125550103", 4)
    said = svc.inbound(NOW).handle("+13125550103", "no more texts please")
    assert said is not None and "unsubscribed" in said
    # Started 1 week ago: one by email who unsubscribed, one still unconfirmed.
    enrol(svc, None, 1, email="gone@example.org")
    assert email_consent.unsubscribe(svc.store, "gone@example.org", NOW)
    enrol(svc, "+13125550105", 1, confirmed=False)
    # Started this week: one.
    enrol(svc, "+13125550106", 0, cause="diabetes")

    found = json.loads(cli("analytics", "--json").stdout)
    weeks = {row["week"]: row for row in found["retention"]}
    assert sorted(weeks) == [0, 1, 4]
    four = weeks[4]
    assert (four["started"], four["still_subscribed"], four["share"]) == (3, 2, 0.6667)
    assert four["by_language"]["es"]["share"] == 1.0
    assert four["by_language"]["en"] == {"started": 2, "still_subscribed": 1, "share": 0.5,
                                         "pending": 0}
    assert four["by_cause"]["cancer_treatment"]["still_subscribed"] == 1
    one = weeks[1]
    assert (one["started"], one["still_subscribed"], one["share"], one["pending"]) == (
        1, 0, 0.0, 1)
    assert weeks[0]["by_cause"] == {"diabetes": {"started": 1, "still_subscribed": 1,
                                                 "share": 1.0, "pending": 0}}
    assert found["stopped"] == {"replied_stop": 1, "unreachable": 0, "email_unsubscribed": 1,
                                "email_bouncing": 0}
    assert found["people"] == 6

    from reminders.entry.web.app import create_app
    from tests.console_client import add_operator, logged_in

    add_operator(svc)
    page = logged_in(create_app(svc)).get("/console/analytics")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "<svg" in body
    assert "<td>4</td><td>3</td><td>2</td><td>67%</td>" in body
    assert "week 4: 67% of 3 still subscribed" in body
    assert "Replied STOP (or asked to stop)</th><td>1</td>" in body

    table = cli("analytics")
    assert table.returncode == 0, table.stderr
    assert "Stopped: replied STOP 1, unreachable 0, unsubscribed by email 1" in table.stdout


def test_opt_outs_by_stop_word_and_the_loop_figures(cli: Cli,
                                                     console_services: Services) -> None:
    """Each opt-out by text is counted once, under its stop word (English or Spanish) or as a
    plain request; a second STOP from someone already out is not an opt-out. The care team's
    loop figures come along (the same ones `stats` shows)."""
    svc = console_services
    texts = {"+13125550201": "STOP", "+13125550202": "stop please", "+13125550203": "Cancel",
             "+13125550204": "ALTO", "+13125550205": "no more texts", "+13125550206": "STOP"}
    for phone, text in texts.items():
        enrol(svc, phone, 2, language="es" if text == "ALTO" else None)
        svc.inbound(NOW).handle(phone, text)
    svc.inbound(NOW).handle("+13125550201", "STOP")  # already out: not counted again

    found = json.loads(cli("analytics", "--json").stdout)
    assert found["stopped_by_word"] == {"alto": 1, "cancel": 1, "phrase": 1, "stop": 3}
    assert found["stopped"]["replied_stop"] == 6
    assert [week["checkin_sent"] for week in found["loop"]["weeks"]] == [0, 0, 0, 0]
    assert set(found["loop"]["open"]) >= {"emergency", "same_day"}

    table = cli("analytics")
    assert "Opt-outs by text, by the word used: STOP 3, ALTO 1, CANCEL 1, a plain request 1" \
        in table.stdout
    assert "Care-team loop, week " in table.stdout

    from reminders.entry.web.app import create_app
    from tests.console_client import add_operator, logged_in

    add_operator(svc)
    body = logged_in(create_app(svc)).get("/console/analytics").get_data(as_text=True)
    assert "<title>STOP: 3 opt-out(s)</title>" in body
    assert "<tr><td>request</td><td>1</td></tr>" in body
    assert "<tr><td>STOP</td><td>3</td></tr>" in body
    assert "The care team&#39;s loop" in body or "The care team's loop" in body
