"""What people tell us about their feet, their pain and their mood, and what the service does.

Each row is a text and its expected effect, checked on a real Redis through the same inbound
handler the webhook and `reminders reply` use: the reply sent back, the open flag `show --json`
lists, the consent state, and what the next evenings' previews ask of the person.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from reminders.app.people.preferences import Enrolment, enrol
from reminders.wiring import Services
from tests.conftest import Cli

PHONE = "+13125550142"
NOW = datetime(2027, 3, 10, 2, 30, tzinfo=UTC)  # 20:30 in Chicago, the evening of March 9

# Effects: "flag:<category>" (same-day reply + open flag), "urgent:<category>" (care now + open
# flag), "no-flag" (not a foot problem: no flag, whatever else it is), "distress" (988 reply,
# still subscribed), "distress+flag" (one text: 988 and the foot advice),
# "stop-es" (opted out, Spanish reply), "help-es", "high-pain", "urgent-pain", "score".
ROWS: list[tuple[str, str]] = [
    # -- foot problems in plain words ------------------------------------------------------------
    ("my heel has a blister", "flag:wound"),
    ("Blister on my big toe", "flag:wound"),
    ("I have a cut on my foot", "flag:wound"),
    ("there's a sore on my sole that won't heal", "flag:wound"),
    ("small wound under my foot", "flag:wound"),
    ("open sore on my ankle", "flag:wound"),
    ("not sure if it's a blister", "flag:wound"),
    ("the cut is not healing", "flag:wound"),
    ("toe turned black", "urgent:gangrene"),  # a black toe: care now, not tomorrow
    ("my toes look blue", "flag:color"),
    ("big toe is purple", "flag:color"),
    ("my foot is a gray color", "flag:color"),
    ("there's pus", "flag:infection"),
    ("some drainage from my toe", "flag:infection"),
    ("my foot smells bad", "flag:infection"),
    ("I think it's infected", "flag:infection"),
    ("ankle is hot and puffy", "flag:warmth"),
    ("my left foot feels hot", "flag:warmth"),
    ("one foot is warmer than the other", "flag:warmth"),
    ("my foot is red and swollen", "flag:redness"),
    ("redness on my heel", "flag:redness"),
    ("my ankle is swollen", "flag:swelling"),
    ("swelling in my foot", "flag:swelling"),
    ("my feet are puffy tonight", "flag:swelling"),
    ("I fell and hurt my foot", "flag:injury"),
    ("tripped on the stairs", "flag:injury"),
    ("stubbed my toe hard", "flag:injury"),
    ("sudden new numbness in my left foot", "flag:numbness"),
    ("my foot went numb suddenly", "flag:numbness"),
    ("BLISTER!!! 😟", "flag:wound"),
    ("No blister but my toe is red", "flag:redness"),
    # -- negations and healing: no flag ------------------------------------------------------------
    ("no blister", "no-flag"),
    ("blister healed", "no-flag"),
    ("the cut healed nicely", "no-flag"),
    ("no cuts or blisters tonight", "no-flag"),
    ("swelling is gone", "no-flag"),
    ("not swollen anymore", "no-flag"),
    ("no redness", "no-flag"),
    ("checked my feet, no problems", "no-flag"),
    ("I cut my toenails straight across", "no-flag"),
    ("warm socks on my feet feel nice", "no-flag"),
    ("it is hot today", "no-flag"),
    ("my feet are numb as usual", "no-flag"),
    ("feeling blue today", "no-flag"),
    ("DONE", "no-flag"),
    # -- distress ----------------------------------------------------------------------------------
    ("I feel hopeless", "distress"),
    ("I can't go on like this", "distress"),
    ("I just want to give up", "distress"),
    ("what's the point anymore", "distress"),
    ("no point in any of this", "distress"),
    ("I want to die", "distress"),
    ("I can't take it anymore", "distress"),
    ("hopeless, and my toe is black", "distress+flag:gangrene"),
    # -- pain scores -------------------------------------------------------------------------------
    ("8", "high-pain"),
    ("9/10", "high-pain"),
    ("pain 10", "high-pain"),
    ("10 unbearable", "urgent-pain"),
    ("pain 9, worst ever", "urgent-pain"),
    ("3", "score"),
    ("7/10", "score"),
    # -- Spanish keywords (Twilio does not handle them) --------------------------------------------
    ("ALTO", "stop-es"),
    ("parar", "stop-es"),
    ("Cancelar", "stop-es"),
    ("BAJA", "stop-es"),
    ("baja por favor", "stop-es"),
    ("AYUDA", "help-es"),
    ("ayuda", "help-es"),
]


@pytest.fixture
def person(console_services: Services) -> Services:
    enrol(console_services.store, console_services.settings, Enrolment(
        phone=PHONE, name="Ana Ruiz", timezone="America/Chicago", time="20:00", confirmed=True),
        NOW - timedelta(days=30))
    return console_services


def _flags(svc: Services) -> list[dict[str, str]]:
    from reminders.app.records.person_json import describe

    return describe(svc.store, svc.store.require(PHONE), NOW)["flags"]


def _the_answer_fits(kind: str, reply: str) -> None:
    if kind == "flag":
        assert "foot clinic today" in reply and "no massage or heat" in reply.lower(), reply
    if kind == "urgent":
        assert "urgent care or the ER" in reply and "no massage or heat" in reply.lower(), reply
    if kind == "distress+flag":  # one text, not two glued together
        assert "doctor today" in reply and "no massage or heat" in reply, reply
        assert reply.count("automated") == 1, reply


@pytest.mark.parametrize(("text", "effect"), ROWS, ids=[r[0][:40] for r in ROWS])
def test_reply_table(person: Services, text: str, effect: str) -> None:
    reply = person.inbound(NOW).handle(PHONE, text) or ""
    sub = person.store.require(PHONE)
    flags = _flags(person)
    kind, _, category = effect.partition(":")
    _the_answer_fits(kind, reply)
    if kind in ("flag", "urgent", "distress+flag"):
        assert len(flags) == 1 and flags[0]["text"] == " ".join(text.split()), flags
        if category:
            assert flags[0]["category"] == category, flags
    else:
        assert flags == [], (text, flags)
    if kind.startswith("distress"):
        assert "988" in reply and sub.sms_status == "active", reply
    if kind == "stop-es":
        assert sub.sms_status == "opted_out" and "mensajes" in reply, reply
    if kind == "help-es":
        assert "Ayuda" in reply or "ALTO" in reply, reply
        assert sub.sms_status == "active"
    if kind == "high-pain":
        assert "doctor" in reply and "urgent care" not in reply, reply
    if kind == "urgent-pain":
        assert "urgent care" in reply, reply
    if kind == "score":
        assert re.search(r"\d+/10", reply) and "doctor" not in reply, reply
    if kind in ("no-flag", "score", "high-pain", "urgent-pain", "distress"):
        assert "foot clinic today" not in reply, reply


def test_a_red_flag_reply_fits_one_segment(person: Services) -> None:
    from reminders.domain.gsm import count_segments

    reply = person.inbound(NOW).handle(PHONE, "my foot is red and swollen") or ""
    assert count_segments(reply).segments == 1, reply


def test_spanish_stop_is_confirmed_even_when_twilio_handles_opt_out(person: Services) -> None:
    assert person.settings.opt_out_handled_by == "twilio"
    assert person.inbound(NOW).handle(PHONE, "STOP") is None  # Twilio confirms English STOP
    person.inbound(NOW).handle(PHONE, "START")
    assert "mensajes" in (person.inbound(NOW).handle(PHONE, "ALTO") or "")


def test_a_reported_problem_keeps_massage_and_heat_out_until_cleared(
        person: Services, cli: Cli) -> None:
    person.inbound(NOW).handle(PHONE, "HEAT ON")
    reply = cli("reply", PHONE, "my foot is red and swollen")
    assert reply.returncode == 0 and "foot clinic today" in reply.stdout
    shown = json.loads(cli("show", PHONE, "--json").stdout)
    assert [f["category"] for f in shown["flags"]] == ["redness"]
    assert shown["heat_ok"] is True  # their own setting is kept; the flag overrides it
    listed = json.loads(cli("flags", "--json").stdout)
    assert [row["phone"] for row in listed] == [PHONE]
    local_today = datetime.now(UTC).astimezone(ZoneInfo("America/Chicago")).date()

    def previews(days: range) -> list[dict]:
        out = []
        for n in days:
            day = (local_today + timedelta(days=n)).isoformat()
            out.append(json.loads(cli("preview", PHONE, "--date", day, "--json").stdout))
        return out

    for preview in previews(range(0, 8)):
        tags = {tag for item in preview["items"] for tag in item["tags"]}
        assert not tags & {"massage", "heat"}, preview["items"]
    refused = cli("flags", "clear", PHONE, "--note", "called her")
    assert refused.returncode == 2 and "--outcome" in refused.stderr  # an outcome is required
    assert json.loads(cli("show", PHONE, "--json").stdout)["flags"]
    cleared = cli("flags", "clear", PHONE, "--outcome", "referred", "--note",
                  "called her, seen by podiatry")
    assert cleared.returncode == 0, cleared.stderr
    assert json.loads(cli("show", PHONE, "--json").stdout)["flags"] == []
    assert json.loads(cli("flags", "--json").stdout) == []
    kinds = {tag for preview in previews(range(0, 14)) for item in preview["items"]
             for tag in item["tags"]}
    assert "massage" in kinds  # back as their own settings allow
    history = person.store.consent_history(person.store.require(PHONE).id)
    actions = [event["action"] for event in history]
    assert "flag:redness" in actions and "flag_cleared" in actions and "heat_on" in actions
    assert any("referred: called her, seen by podiatry" in event["words"] for event in history)


def test_a_flag_never_closes_by_itself(person: Services) -> None:
    """Massage and heat stay off while a foot problem is open, whatever the date, until an
    operator closes it (the old version let it lapse after seven evenings)."""
    person.inbound(NOW).handle(PHONE, "blister on my heel")
    assert len(_flags(person)) == 1
    from reminders.app.records.person_json import describe

    for later in (NOW + timedelta(days=8), NOW + timedelta(days=400)):
        assert describe(person.store, person.store.require(PHONE), later)["flags"]
    assert person.store.require(PHONE).flag_open_on((NOW + timedelta(days=400)).date())


@pytest.mark.parametrize(("text", "field", "value", "action"), [
    ("MASSAGE OFF", "massage_ok", False, "massage_off"),
    ("heat on", "heat_ok", True, "heat_on"),
])
def test_own_contraindications_by_text(person: Services, text: str, field: str, value: bool,
                                       action: str) -> None:
    reply = person.inbound(NOW).handle(PHONE, text) or ""
    sub = person.store.require(PHONE)
    assert getattr(sub, field) is value
    assert reply.startswith("Done")
    assert action in [e["action"] for e in person.store.consent_history(sub.id)]
    if field == "heat_ok":
        assert "elbow" in reply


def test_the_welcome_names_massage_off_and_help_names_heat_on(console_services: Services
                                                              ) -> None:
    enrol(console_services.store, console_services.settings, Enrolment(
        phone=PHONE, timezone="America/Chicago", time="20:00"), NOW)
    reply = console_services.inbound(NOW).handle(PHONE, "YES") or ""
    assert "MASSAGE OFF" in reply and "Msg&data" in reply, reply
    # Heat tips are off unless asked for: HELP says how (the welcome's two segments go to
    # the massage screening, 911 and the not-encrypted clause).
    # (bare HELP is Twilio's to answer by default: a plea for help is ours)
    helped = console_services.inbound(NOW).handle(PHONE, "help me please") or ""
    assert "HEAT ON" in helped, helped


@pytest.mark.parametrize("text", ["STOP", "stop please", "ALTO"])
def test_stop_wins_and_an_open_flag_still_reaches_the_clinic(person: Services, text: str) -> None:
    person.inbound(NOW).handle(PHONE, "my big toe is black")
    person.inbound(NOW).handle(PHONE, text)
    assert person.store.require(PHONE).sms_status == "opted_out"
    assert [f["category"] for f in _flags(person)] == ["gangrene"]


def test_flags_are_counted_in_stats_and_metrics(person: Services, cli: Cli) -> None:
    from prometheus_client import CollectorRegistry, generate_latest

    from reminders.entry.web.metrics import RedisCollector

    cli("reply", PHONE, "there is pus on my toe")
    stats = json.loads(cli("stats", "--json").stdout)
    assert stats["subscribers"]["flags_open"] == 1
    registry = CollectorRegistry()
    registry.register(RedisCollector(person.store))
    scraped = generate_latest(registry).decode()
    assert 'reminders_flags_total{category="infection"} 1.0' in scraped
    assert 'reminders_flags_total{category="wound"} 0.0' in scraped
    table = cli("list").stdout
    assert "infection" in table
