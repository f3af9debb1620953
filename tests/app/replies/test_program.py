"""LESS / MORE, the lighter schedule over a year (DST included), the habit offer, and TEMP with
the hotspot rule: through the signed webhook on a real Redis, and in the texts as sent.

Written from the issue and its sources (IWGDF 2023: examine the feet daily; Lavery 2004: a
left-right difference over 2.2 C / 4 F two days running), not from the code under test."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from reminders.app.people.preferences import Enrolment, enrol
from reminders.domain.schedule import upcoming
from reminders.domain.subscriber import Subscriber
from reminders.messages.render import Renderer
from reminders.messages.replies import Replies
from reminders.wiring import Services
from testing.twilio_api import FakeTwilio
from tests.conftest import Cli, services_here
from tests.messages import test_content_safety as safety_en
from tests.messages import test_content_safety_es as safety_es
from tests.sweep import STEP, year
from tests.webhook_client import WebhookClient, said

TEMPLATES = Path(__file__).resolve().parents[3] / "templates"
PERSON = "+13125550142"
NY = ZoneInfo("America/New_York")
MOVEMENT_OUT = {"massage", "heat", "walk", "standing"}


def lighter(language: str, days: tuple[int, ...] = ()) -> Subscriber:
    return Subscriber("p-lighter", PERSON, None, "Ana", "America/New_York", time(20, 30), "sms",
                      sms_status="active", frequency="lighter", routine_days=days,
                      language=language, created_at="2026-12-01T12:00:00Z")


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("days", [(), (1, 3, 5)])
def test_a_year_on_the_lighter_schedule(language: str, days: tuple[int, ...]) -> None:
    """Every evening of 2027 as the schedule gives them (both DST changes inside): the foot
    check every evening, the routine exactly on the chosen weekdays (default Mon/Wed/Fri)."""
    renderer = Renderer(TEMPLATES, "Foot Care Reminders", 2)
    sub = lighter(language, days)
    chosen = set(days or (0, 2, 4))
    evenings = upcoming(sub.send_time, NY, datetime(2026, 12, 31, 23, tzinfo=UTC), 365)
    assert [e.local_date for e in evenings] == [evenings[0].local_date + timedelta(days=n)
                                                 for n in range(365)]  # one per local date
    assert {e.local(NY).utcoffset() for e in evenings} == {timedelta(hours=-5),
                                                          timedelta(hours=-4)}
    for evening in evenings[::STEP]:
        assert evening.local(NY).time() == time(20, 30)
        preview = renderer.tonight(sub, evening.local_date).preview()
        kinds = [item["kind"] for item in preview["items"]]
        body = preview["sms"]["body"]
        assert kinds[0] == "check" and preview["items"][0]["text"] in body
        if evening.local_date.weekday() in chosen:
            assert kinds[1:] in (["routine", "tip", "safety"], ["routine", "safety"]), kinds
        else:
            assert kinds == ["check"], (evening.local_date, kinds)
            assert preview["sms"]["segments"] == 1, body
        assert preview["sms"]["encoding"] == "GSM-7"


def _offer_bodies(language: str) -> Iterator[str]:
    renderer = Renderer(TEMPLATES, "Foot Care Reminders", 2)
    sub = Subscriber("p-daily", PERSON, None, "Maria Fernanda", "America/Chicago", time(20),
                     "sms", sms_status="active", language=language,
                     created_at="2027-01-01T18:00:00Z")
    start = datetime(2027, 1, 1).date()
    for n in range(400):
        body = renderer.tonight(sub, start + timedelta(days=n)).sms.body
        if ("LESS" if language == "en" else "MENOS") in body:
            yield f"{n + 1}:{body}"


@pytest.mark.parametrize("language", ["en", "es"])
def test_habit_offer_on_the_66th_evening_then_every_90(language: str) -> None:
    offers = list(_offer_bodies(language))
    assert [int(o.split(":")[0]) for o in offers] == [66, 156, 246, 336]
    for offer in offers:
        body = offer.split(":", 1)[1]
        assert re.search(r"\b(both feet|ambos pies)\b", body), body  # the foot check stays
        assert ("STOP" if language == "en" else "ALTO") in body


NEW_REPLIES = {
    "frequency_lighter": {"days": [0, 2, 4]}, "frequency_daily": {},
    "frequency_days_invalid": {}, "temp_off": {}, "temp_format": {}, "temp_implausible": {},
    **{f"temp_{v}": {"left": "31.2", "right": "33.8", "unit": "C", "difference": "2.6",
                     "warmer": "left"} for v in ("normal", "remeasure", "hotspot")},
}


@pytest.mark.parametrize("language", ["en", "es"])
def test_every_new_text_passes_the_safety_checks(language: str) -> None:
    checker = safety_en if language == "en" else safety_es
    replies = Replies(TEMPLATES).in_language(language)
    texts = [replies.render(name, **ctx) for name, ctx in NEW_REPLIES.items()]
    texts += [o.split(":", 1)[1] for o in _offer_bodies(language)]
    for text in texts:
        assert not checker.check_item_text(text, []), text
        assert not re.search(r"walk (it|that) off|camin\w* (para|y) (que )?se (le )?pase",
                             text, re.I), text
    hotspot = replies.render("temp_hotspot", **NEW_REPLIES["temp_hotspot"])
    # a warm foot gets rest and a call today, never heat or a massage
    assert re.search(r"no heat|sin calor", hotspot, re.I), hotspot
    assert re.search(r"no massage|sin masaje", hotspot, re.I), hotspot
    assert re.search(r"(doctor|foot clinic|medico|clinica).*(today|hoy)|"
                     r"(today|hoy).*(doctor|medico)", safety_es.plain(hotspot), re.I), hotspot


# -- through the signed webhook ----------------------------------------------------------------


@pytest.fixture
def svc(twilio_env: dict[str, str]) -> Services:
    return services_here(twilio_env)


def person(svc: Services, language: str = "en", temp: bool = False) -> Subscriber:
    sub = enrol(svc.store, svc.settings, Enrolment(phone=PERSON, name="Ana Lopez", confirmed=True,
                                                   timezone="America/Chicago", time="20:00",
                                                   language=language))
    if temp:
        sub = svc.store.save(sub, sub.with_changes(temp_monitoring=True), [],
                             datetime.now(UTC))
    return sub


@pytest.mark.parametrize(("language", "less", "more"), [
    ("en", "LESS", "MORE"), ("en", "less please", "More."),
    ("es", "MENOS", "MÁS"), ("es", "menos por favor", "mas"),
])
def test_less_and_more_round_trip(svc: Services, web: WebhookClient, language: str, less: str,
                                  more: str) -> None:
    sub = person(svc, language)
    reply = said(web.text(PERSON, less))
    assert svc.store.get(sub.id).frequency == "lighter"  # type: ignore[union-attr]
    assert re.search(r"Mon, Wed and Fri|lun, mi.? y vie", reply), reply
    help_text = said(web.text(PERSON, "help please" if language == "en" else "AYUDA"))
    assert re.search(r"routine 3 evenings a week|rutina 3 noches por semana", help_text)
    assert re.search(r"\b(MORE|MAS)\b", help_text), help_text
    reply = said(web.text(PERSON, more))
    assert svc.store.get(sub.id).frequency == "daily"  # type: ignore[union-attr]
    assert re.search(r"\b(LESS|MENOS)\b", reply), reply
    actions = [e["action"] for e in svc.store.consent_history(sub.id)]
    assert actions[-2:] == ["frequency_lighter:mon,wed,fri", "frequency_daily"], actions


def test_less_with_days_and_bad_days(svc: Services, web: WebhookClient) -> None:
    sub = person(svc)
    assert "Tue, Thu and Sat" in said(web.text(PERSON, "LESS TUE THU SAT"))
    assert svc.store.get(sub.id).routine_days == (1, 3, 5)  # type: ignore[union-attr]
    assert "less pain" not in said(web.text(PERSON, "less pain tonight")).lower()
    assert svc.store.get(sub.id).routine_days == (1, 3, 5)  # type: ignore[union-attr]


def test_temp_without_monitoring_gets_a_helpful_reply(svc: Services, web: WebhookClient) -> None:
    sub = person(svc)
    reply = said(web.text(PERSON, "TEMP 88 92"))
    assert "care team" in reply and "doctor" in reply, reply
    assert svc.redis.hgetall(f"fc:temps:{sub.id}") == {}


def test_implausible_temp_is_questioned_not_stored(svc: Services, web: WebhookClient) -> None:
    sub = person(svc, temp=True)
    reply = said(web.text(PERSON, "TEMP 880 920"))
    assert "did not save" in reply, reply
    assert svc.redis.hgetall(f"fc:temps:{sub.id}") == {}


def _flags(svc: Services, sub: Subscriber) -> list[dict[str, str]]:
    from reminders.app.care import flags
    fresh = svc.store.get(sub.id)
    assert fresh is not None
    return flags.reports(svc.store, fresh, datetime.now(UTC))


@pytest.mark.parametrize(("language", "first", "second"), [
    ("en", "TEMP L 31.0 R 33.5", "temp r 33.6 l 31.1"),
    ("es", "TEMP IZQ 31 DER 33,5", "temp izq 31,1 der 33,6"),
])
def test_two_evenings_over_open_one_hotspot_flag(svc: Services, web: WebhookClient,
                                                 language: str, first: str, second: str
                                                 ) -> None:
    sub = person(svc, language, temp=True)
    yesterday = datetime.now(UTC) - timedelta(days=1)
    spike = svc.inbound(yesterday).handle(PERSON, first) or ""
    assert re.search(r"tomorrow|mañana|manana", spike), spike
    assert _flags(svc, sub) == []  # one evening alone: measure again, no flag
    reply = said(web.text(PERSON, second))
    assert re.search(r"today|hoy", reply) and re.search(r"no heat|sin calor", reply), reply
    open_flags = _flags(svc, sub)
    assert [(f["category"], f["level"]) for f in open_flags] == [("hotspot", "same_day")]
    said(web.text(PERSON, second))  # the same evening again: still one flag
    assert len(_flags(svc, sub)) == 1
    # tonight's items while the hotspot is open: no massage, heat, walking or standing
    fresh = svc.store.get(sub.id)
    assert fresh is not None
    local = datetime.now(ZoneInfo(fresh.timezone)).date()
    for day in (local + timedelta(days=n) for n in range(7)):
        for item in svc.renderer.tonight(fresh, day).preview()["items"]:
            assert not MOVEMENT_OUT & set(item["tags"]), (day, item)  # type: ignore[index]


def test_one_evening_over_opens_no_flag(svc: Services, web: WebhookClient) -> None:
    sub = person(svc, temp=True)
    reply = said(web.text(PERSON, "TEMP 88 93"))
    assert "tomorrow" in reply, reply
    assert _flags(svc, sub) == []
    assert said(web.text(PERSON, "TEMP 88 90")).startswith("Thanks")


@pytest.mark.parametrize("flag_open", [False, True])
def test_selection_rules_hold_on_the_lighter_schedule(flag_open: bool) -> None:
    """No repeated movement in one evening; with an open flag no massage, heat, walking or
    standing, and the note is about the problem: on routine evenings as on daily ones."""
    renderer = Renderer(TEMPLATES, "Foot Care Reminders", 2)
    sub = lighter("en").with_changes(flag_until=date.max if flag_open else None,
                                     massage_ok=True, heat_ok=True, cause="diabetes")
    for day in year():
        items = renderer.tonight(sub, day).preview()["items"]
        tags = [set(item["tags"]) for item in items]  # type: ignore[index]
        moves = [t for tag in tags for t in tag if t.startswith("move:")]
        assert len(moves) == len(set(moves)), (day, items)
        if flag_open:
            assert not any(MOVEMENT_OUT & tag for tag in tags), (day, items)
            if len(items) > 1:
                assert "open-flag" in tags[-1], (day, items)


@pytest.mark.parametrize(("text", "kind"), [
    ("LESS", "frequency"), ("Less please!", "frequency"), ("fewer texts", "frequency"),
    ("MORE", "frequency"), ("daily", "frequency"), ("MENOS", "frequency"), ("más", "frequency"),
    ("less pain tonight", "unknown"), ("more pain", "unknown"), ("no more texts", "stop"),
    ("TEMP 88 92", "temp"), ("Tmp 88 92", "temp"), ("temperatura izq 31 der 33", "temp"),
    ("my temp is 101", "unknown"), ("tempting", "unknown"),
])
def test_what_people_text_is_read_as(text: str, kind: str) -> None:
    from reminders.domain.keywords import parse
    assert parse(text).kind == kind


def test_a_hotspot_tells_the_caregiver_the_category_never_the_numbers(
        svc: Services, web: WebhookClient, fake_twilio: FakeTwilio, twilio_cli: Cli) -> None:
    caregiver = "+13125550177"
    sub = person(svc, temp=True)
    assert twilio_cli("caregiver", "add", PERSON, caregiver, "--name", "Bob").returncode == 0
    web.text(caregiver, "YES")
    web.text(PERSON, "CARE YES")
    svc.inbound(datetime.now(UTC) - timedelta(days=1)).handle(PERSON, "TEMP 88.2 93.1")
    assert len([m for m in fake_twilio.messages if m.to == caregiver]) == 1  # the invitation
    said(web.text(PERSON, "TEMP 88.4 93.3"))
    [alert] = [m.body for m in fake_twilio.messages if m.to == caregiver][1:]
    assert "a warm spot on one foot" in alert and "doctor today" in alert, alert
    assert not re.search(r"88|93", alert), alert
    assert _flags(svc, sub)[0]["category"] == "hotspot"
