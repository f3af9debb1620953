"""The weekly progress summary: its facts in words, once per (person, ISO week), the email chart.

In process against a real Redis, the fake Twilio API and a local SMTP server; the DONE and score
replies go through the signed webhook, with the clock of the process moved to each evening
(time-machine: the outside world's clock, not our code). The end-to-end run with a real worker
and beat is tests/app/evenings/test_weekly_end_to_end.py.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, time, timedelta
from email import message_from_bytes
from zoneinfo import ZoneInfo

import time_machine

from reminders.app.people.preferences import Enrolment, enrol
from reminders.domain import weekly
from reminders.domain.gsm import count_segments, is_gsm7
from reminders.domain.subscriber import Subscriber
from reminders.domain.weekly import Evening
from reminders.wiring import Services
from testing.smtp import FakeSmtp
from testing.twilio_api import DEFAULT_AUTH_TOKEN, FakeTwilio
from tests.conftest import Cli, make_services
from tests.webhook_client import WebhookClient, serve

PHONE = "+13125550142"
ZONE = "America/Chicago"
SUMMARY = date(2026, 11, 29)  # a Sunday
PUBLIC = "https://reminders.example.org"


def local(day: date, at: time = time(21, 0)) -> datetime:
    return datetime.combine(day, at, tzinfo=ZoneInfo(ZONE))


def person(svc: Services, channel: str = "sms", email: str | None = None) -> Subscriber:
    with time_machine.travel(local(SUMMARY - timedelta(days=20)), tick=True):
        return enrol(svc.store, svc.settings, Enrolment(
            phone=PHONE, email=email, name="Ana Lopez", timezone=ZONE, time="20:00",
            channel=channel, confirmed=True))


def text_on(web: WebhookClient, day: date, body: str) -> None:
    with time_machine.travel(local(day), tick=True):
        assert web.text(PHONE, body).status_code == 200


def a_week(web: WebhookClient) -> None:
    """The week before: scores of 5; this week: DONE on 5 evenings, scores 4, 4, 5, 3."""
    for n in (14, 12, 9):
        text_on(web, SUMMARY - timedelta(days=n), "5")
    for n in (7, 5, 3, 2, 1):
        text_on(web, SUMMARY - timedelta(days=n), "DONE")
    for n, score in ((6, 4), (4, 4), (3, 5), (1, 3)):
        text_on(web, SUMMARY - timedelta(days=n), f"pain {score}")


def test_facts_in_plain_words() -> None:
    days = weekly.evenings_before(SUMMARY)
    evenings = [Evening(d, False, None) for d in days]
    facts = weekly.facts(SUMMARY, evenings)
    assert (facts.done, facts.streak, facts.average, facts.change) == (0, 0, None, "")
    scored = [Evening(d, i >= 21, 4 if i >= 21 else (6 if i >= 14 else None))
              for i, d in enumerate(days)]
    facts = weekly.facts(SUMMARY, scored)
    assert (facts.done, facts.streak, facts.average, facts.previous, facts.change) == (
        7, 7, 4, 6, "lower")
    assert facts.week_key == "2026-W48"
    assert weekly.summary_date_for(date(2026, 11, 25), 6) == SUMMARY


def test_a_week_of_replies_gives_the_expected_text_once(
        twilio_env: dict[str, str], fake_twilio: FakeTwilio) -> None:
    svc = make_services({**twilio_env, "WEEKLY_SUMMARY_DAY": "sunday"})
    sub = person(svc)
    with serve(svc) as base:
        a_week(WebhookClient(base, PUBLIC, DEFAULT_AUTH_TOKEN))
    before = len(fake_twilio.messages)
    now = local(SUMMARY, time(20, 0, 30)).astimezone(UTC)
    first = svc.sender.deliver(sub.id, SUMMARY, now)
    assert first.channels == {"sms": "sent", "weekly": "sent"}
    sent = fake_twilio.messages[before:]
    assert [m.to for m in sent] == [PHONE, PHONE]
    nightly, summary = sent[0].body, sent[1].body
    # The evening's text opens with the foot check (soles, between the toes) whatever the
    # rest of tonight's selection is; the summary is the second text, not part of it.
    assert {"soles", "toes"} <= set(re.findall(r"[a-z]+", nightly.lower()))
    assert "weekly" not in nightly.lower()
    assert summary == (
        "Foot Care Reminders weekly: DONE on 5 of 7 evenings, 3 in a row. Pain was a little "
        "lower this week: 4 on average, 5 the week before. Well done: your feet get real care "
        "from you. Nightly too much? Reply LESS. WEEKLY OFF to stop these, HELP for help, "
        "STOP to end.")
    assert is_gsm7(summary) and count_segments(summary).segments <= 2
    # a retried or duplicated task, a second worker: nothing more
    again = svc.sender.deliver(sub.id, SUMMARY, now + timedelta(seconds=5))
    assert again.channels == {"sms": "already sent", "weekly": "already sent"}
    assert len(fake_twilio.messages) == before + 2
    # any other evening of the week: no summary
    monday = svc.sender.deliver(sub.id, SUMMARY + timedelta(days=1),
                                now + timedelta(days=1))
    assert monday.channels == {"sms": "sent"}


def test_weekly_off_and_no_scores(twilio_env: dict[str, str], fake_twilio: FakeTwilio,
                                  twilio_cli: Cli) -> None:
    svc = make_services({**twilio_env, "WEEKLY_SUMMARY_DAY": "sunday"})
    sub = person(svc)
    with serve(svc) as base:
        web = WebhookClient(base, PUBLIC, DEFAULT_AUTH_TOKEN)
        text_on(web, SUMMARY - timedelta(days=2), "DONE")
        shown = json.loads(twilio_cli("weekly", PHONE, "--date", "2026-11-26", "--json").stdout)
        assert shown["date"] == "2026-11-29" and shown["week"] == "2026-W48"
        assert shown["facts"]["done"] == 1 and shown["facts"]["average"] is None
        assert "Pain" not in shown["sms"]["body"] and "pain" not in shown["sms"]["body"]
        with time_machine.travel(local(SUMMARY - timedelta(days=1)), tick=True):
            reply = web.text(PHONE, "weekly off").text
        assert "no more weekly progress texts" in reply
    assert [e["action"] for e in svc.store.consent_history(sub.id)][-1] == "weekly_off"
    now = local(SUMMARY, time(20, 0, 30)).astimezone(UTC)
    assert svc.sender.deliver(sub.id, SUMMARY, now).channels == {"sms": "sent"}


def test_weekly_email_has_a_chart_without_remote_images(
        plain_email_env: dict[str, str], fake_smtp: FakeSmtp) -> None:
    svc = make_services({**plain_email_env, "WEEKLY_SUMMARY_DAY": "sunday"})
    sub = person(svc, channel="email", email="ana@example.org")
    svc.store.save(sub, sub.with_changes(email_status="active"))
    with serve(svc) as base:
        a_week(WebhookClient(base, PUBLIC, DEFAULT_AUTH_TOKEN))
    now = local(SUMMARY, time(20, 0, 30)).astimezone(UTC)
    outcome = svc.sender.deliver(sub.id, SUMMARY, now)
    assert outcome.channels == {"email": "sent", "weekly_email": "sent"}
    raw = fake_smtp.messages[-1].raw
    mail = message_from_bytes(raw)
    assert mail["Subject"] == "Your week of foot care: 5 of 7 evenings done"
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    html = next(p for p in mail.walk() if p.get_content_type() == "text/html")
    text = next(p for p in mail.walk() if p.get_content_type() == "text/plain")
    body = html.get_payload(decode=True).decode()
    plain = text.get_payload(decode=True).decode()
    assert "<img" not in body and "url(" not in body  # nothing to load from anywhere
    assert 'role="img" aria-label="Chart of the last 28 evenings: DONE on 5; scores from 3 ' \
           'to 5 out of 10."' in body
    assert body.count("<td title=") == 28
    assert "height:32px" in body  # a score of 4 is 4/10 of the 80 px bar
    assert "Pain was a little lower this week: 4 on average, 5 the week before." in plain
    assert "Sat Nov 28: DONE, pain 3/10" in plain
    again = svc.sender.deliver(sub.id, SUMMARY, now + timedelta(seconds=5))
    assert again.channels["weekly_email"] == "already sent"
    assert len(fake_smtp.messages) == 2


def test_no_summary_for_someone_who_told_us_nothing_all_week(
        twilio_env: dict[str, str], fake_twilio: FakeTwilio) -> None:
    svc = make_services({**twilio_env, "WEEKLY_SUMMARY_DAY": "sunday"})
    sub = person(svc)
    now = local(SUMMARY, time(20, 0, 30)).astimezone(UTC)
    assert svc.sender.deliver(sub.id, SUMMARY, now).channels == {"sms": "sent"}
    assert len(fake_twilio.messages) == 1
