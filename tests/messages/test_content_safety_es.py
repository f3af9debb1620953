"""The clinical content rules of DESIGN.md, checked on the Spanish texts people receive.

The Spanish half of the independent checker (tests/messages/test_content_safety.py): its own Spanish
word lists, written for this test (not the keyword, red-flag or rendering code's), the library
read with tomllib, and `preview` rendered for every Spanish profile on every date of a year.
Words are compared without accents, as the SMS sends them (GSM-7 has é ñ ü ¿ ¡, not á í ó ú).
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from datetime import date, time
from itertools import product
from typing import Any

import pytest

from reminders.domain.channels import parse_set
from reminders.domain.subscriber import Subscriber
from reminders.messages.render import Renderer
from reminders.settings import PROJECT_ROOT
from testing.sms_segments import count as count_segments  # our own counter, not the product's
from testing.sms_segments import gsm7_septets
from tests import sweep
from tests.messages.test_content_instructions import segments

TEMPLATES = PROJECT_ROOT / "templates"
RAW = tomllib.loads((TEMPLATES / "content" / "library.es.toml").read_text(encoding="utf-8"))
ENTRIES: list[dict[str, Any]] = [entry for section in ("check", "routine", "tip", "safety")
                                 for entry in RAW[section]]
YEAR = sweep.year()  # every evening of 2027 (every 5th under make check)


def plain(text: str) -> str:
    """Lower case, accents off (ñ -> n too: the lists below are written without them)."""
    return "".join(c for c in unicodedata.normalize("NFD", text.lower())
                   if not unicodedata.combining(c))


# -- the checker's own Spanish vocabulary -------------------------------------------------------
NEGATION = r"(nunca|no|ni|sin|evite|jamas)"
MASSAGE_WORDS = re.compile(r"\b(masaj\w*|frot\w*|ruede|rodillo|acaric\w*|presione)\b")
WARM_WATER = re.compile(r"agua tibia|\blave\w* (sus |los )?pies|\bbano\b|palangana|"
                        r"toalla[^.]*tibia|tibia[^.]*toalla")
HEAT_DEVICES = re.compile(r"almohadilla electrica|bolsa de agua caliente|cobija electrica|"
                          r"manta electrica|frazada electrica")
DIAGNOSES = re.compile(r"neuropat\w*|diabet\w*|quimio\w*|cancer")
CLAIMS = re.compile(r"\b(cura\w*|curar\w*|repar\w*|revert\w*|inmun\w*|garantiz\w*|sanara|"
                    r"eliminara|quitara el dolor)\b")
INFORMAL = re.compile(r"\b(tu|tus|puedes|debes|tienes|quieres|sientes)\b")  # usted, not tú
MOVEMENTS = {
    "giros de tobillo": r"gire cada tobillo|gire (los|sus) tobillos",
    "pies en alto": r"pies en alto|(suba|ponga) los pies|en alto sobre|almohada bajo|banquito",
    "estirar pantorrilla": r"estire (la )?pantorrilla|talon abajo|pantorrilla 30",
    "toalla": r"pase una toalla|toalla por un pie",
    "abrir dedos": r"abra (bien )?los dedos",
    "puntas": r"estire las puntas|estire y flexione",
    "caminar": r"\bcamin\w*",
    "marcha": r"levante cada rodilla|marcha",
    "rodar planta": r"ruede cada planta|ruede (una )?pelota",
}
# Concepts a short form must keep when its long form has them.
SAFETY_CONCEPTS = {
    "sit": r"\bsient|\bsentad|\bsentars", "gentle": r"\bsuav", "skip": r"\bevite\b",
    "wound": r"\bherid", "blister": r"\bampoll", "swell": r"\bhinch",
    "sore": r"\badolorid|\bdolorid|\bcon dolor", "red": r"\broj|\benrojec", "warm": r"\btibi",
    "hot": r"\bcalient", "elbow": r"\bcodo", "thermometer": r"\btermometr",
    "clot": r"\bcoagul", "doctor": r"\bmedic", "clinic": r"\bclinic", "call": r"\bllam",
    "today": r"\bhoy\b", "broken": r"\blastimad|\brota\b", "between": r"\bentre\b",
    "sock": r"\bcalcet", "stop": r"\bdeje (de|cualquier|la|el|enseguida)\b|\bpare\b",
    "rash": r"\bsarpull",
    "dry": r"\bsec[aoe]", "cut": r"\bcort|\bherid", "color": r"\bcolor", "sole": r"\bplanta",
    "both": r"\bambos", "heating pad": r"almohadilla electrica", "barefoot": r"\bdescalz",
    "straight": r"\brect", "corn": r"\bcallo", "burn": r"\bquem", "shoe": r"\bzapat",
    "slipper": r"\bpantufl",
}
NEGATIONS = re.compile(r"\b" + NEGATION + r"\b")


def has(text: str, *concepts: str) -> bool:
    return all(re.search(SAFETY_CONCEPTS[c], plain(text)) for c in concepts)


def check_item_text(text: str, tags: list[str]) -> list[str]:
    t = plain(text)
    problems = []
    if re.search(r"\bremoj", t) and not re.search(NEGATION + r"\W+(\w+\W+){0,2}remoj", t):
        problems.append("tells people to soak their feet")
    if WARM_WATER.search(t) and not re.search(r"codo|termometro", t):
        problems.append("warm water not tested with the elbow or a thermometer")
    if re.search(r"\bprueb\w*[^.]*?(?<!nunca )(?<!ni )(?<!no )con (la|el|su) (mano|pie)\b", t):
        problems.append("tests temperature with the hand or foot")
    for match in HEAT_DEVICES.finditer(t):
        clause = re.split(r"[.;:!?]", t[:match.start()])[-1]
        if not re.search(r"\b" + NEGATION + r"\b", clause):
            problems.append("suggests a heating pad, hot-water bottle or electric blanket")
    massage = "routine" in tags and ("massage" in tags or bool(MASSAGE_WORDS.search(t)))
    if massage and not has(text, "wound", "blister", "swell", "sore"):
        problems.append("massage without the skip clause (herida, ampolla, hinchazón, llaga)")
    if massage and re.search(r"\bpantorrill", t) and not has(text, "call", "doctor"):
        problems.append("calf massage without the call-the-doctor warning")
    if re.search(r"\b(pelota|rodillo)\b", t) and not has(text, "sit"):
        problems.append("ball or roller not done sitting down")
    if re.search(r"\b(aceite|crema|locion)\b", t) and "routine" in tags \
            and not has(text, "broken", "between", "sock"):
        problems.append("oil or lotion routine without piel lastimada / entre / calcetines")
    problems += [rule for rule, pattern in (("names a diagnosis", DIAGNOSES),
                                            ("promises a cure", CLAIMS),
                                            ("informal tú", INFORMAL)) if pattern.search(t)]
    return problems


def movements_in(text: str) -> set[str]:
    return {name for name, pattern in MOVEMENTS.items() if re.search(pattern, plain(text))}


# -- the library file, item by item -----------------------------------------------------------
@pytest.mark.parametrize("entry", ENTRIES, ids=[e["id"] for e in ENTRIES])
def test_every_spanish_item_keeps_the_content_rules(entry: dict[str, Any]) -> None:
    kind = {"r": "routine", "t": "tip", "s": "safety", "c": "check"}[entry["id"][0]]
    for field in ("text", "short", "why"):
        problems = check_item_text(entry[field], [*entry["tags"], kind] if field != "why"
                                   else ["why"])
        if field == "why":  # the email's explanation: it may describe, never suggest
            problems = [p for p in problems if p in (
                "names a diagnosis", "promises a cure", "informal tú",
                "tells people to soak their feet",
                "suggests a heating pad, hot-water bottle or electric blanket")]
        assert not problems, f"{entry['id']}.{field}: {problems}: {entry[field]!r}"


# Every short keeps each instruction of its item: tests/messages/test_content_instructions.py.


def test_spanish_benefits_are_puede_never_a_promise() -> None:
    for entry in ENTRIES:
        if entry["id"][0] in "rt":
            assert re.search(r"\b(puede|pueden|podria|quiza)\b", plain(entry["why"])), entry["id"]


def test_spanish_foot_checks_name_both_feet_soles_toes_and_what_to_look_for() -> None:
    for entry in RAW["check"]:
        for field in ("text", "short"):
            assert has(entry[field], "both", "sole", "between", "cut", "blister", "red",
                       "swell", "color") and "dedos" in plain(entry[field]), (entry["id"], field)


# -- every night of a year, for every Spanish profile ---------------------------------------------
PROFILES = list(product((False, True), (False, True), (False, True),
                        ("", "Ana", "María José", "Maximiliana-Theodora")))


def _persona(n: int, heat: bool, massage: bool, flag: bool, name: str) -> Subscriber:
    return Subscriber(id=f"p{n:04d}", phone="+15005550006", email="a@example.org", name=name,
                      timezone="America/Chicago", send_time=time(20, 0), channels=parse_set("both"),
                      sms_status="active", heat_ok=heat, massage_ok=massage,
                      flag_until=date(2099, 1, 1) if flag else None, language="es")


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer(TEMPLATES, "Foot Care Reminders", max_segments=2)


@pytest.mark.parametrize(("heat", "massage", "flag", "name"), PROFILES)
def test_every_spanish_night_of_a_year_is_safe_and_within_budget(
        renderer: Renderer, heat: bool, massage: bool, flag: bool, name: str) -> None:
    for n, day in enumerate(YEAR):
        sub = _persona(n % 7, heat, massage, flag, name)
        preview = renderer.tonight(sub, day).preview()
        body: str = preview["sms"]["body"]  # type: ignore[index]
        where = f"{sub.id} {day} heat={heat} massage={massage} flag={flag}: {body!r}"
        assert segments(body) <= ("GSM-7", 2), where  # the checker's own counter
        assert not re.search("[áíóúÁÍÓÚ]", body), where
        lines = body.splitlines()
        first = next(n for n, line in enumerate(lines) if line.startswith("1. "))
        assert first <= 1 and has(lines[first], "both", "sole", "between"), where
        assert "ALTO" in lines[-1], where
        items: list[dict[str, Any]] = preview["items"]  # type: ignore[assignment]
        seen: set[str] = set()
        for item in items:
            assert item["text"] in body, where
            assert not check_item_text(item["text"], [*item["tags"], item["kind"]]), where
            moves = movements_in(item["text"])
            assert not moves & seen, f"repeated movement {moves & seen}: {where}"
            seen |= moves
        doing = [i for i in items if i["kind"] in ("routine", "tip")]
        doing = [i for i in items if i["kind"] in ("routine", "tip")]
        asks_massage = any(MASSAGE_WORDS.search(plain(i["text"])) for i in doing)
        asks_heat = any(WARM_WATER.search(plain(i["text"])) for i in doing)
        if flag or not massage:
            assert not asks_massage, where
        if flag or not heat:
            assert not asks_heat, where
        email = preview["email"]  # type: ignore[index]
        assert "Buenas noches" in email["text"] and "Primero, revise sus pies" in email["html"]


def test_spanish_replies_say_what_the_rules_require() -> None:
    from reminders.messages.replies import Replies

    replies = Replies(TEMPLATES).in_language("es")
    help_text = replies.render("help", program_name="Foot Care Reminders", when="8:00 PM",
                               support="")
    assert "Pueden aplicarse tarifas de mensajes y datos" in help_text and "ALTO" in help_text
    distress = replies.render("triage", level="crisis", category="self_harm")
    assert "llame o envie un mensaje de texto al 988 (oprima 2 para español)" in distress.lower()
    red = replies.render("triage", level="same_day", category="wound")
    assert "sin masaje ni calor" in red and "medico" in plain(red)
    heat = replies.render("heat_set", on=True)
    assert has(heat, "elbow", "thermometer") and "nunca remoje" in plain(heat)
    for body in (help_text, distress, red, heat):
        assert gsm7_septets(body) is not None and not check_item_text(body, ["reply"]), body


SAMPLE = {  # the longest realistic arguments of each reply
    "help": {"program_name": "Foot Care Reminders", "when": "10:45 PM",
             "support": "555-0100 (Mon-Fri)"},
    "stopped": {"program_name": "Foot Care Reminders"},
    "started": {"program_name": "Foot Care Reminders", "time": "10:45 PM"},
    "already_active": {"time": "10:45 PM"}, "time_set": {"time": "10:45 PM", "tonight": False},
    "time_invalid": {"earliest": "4:00 PM", "latest": "11:00 PM"},
    "time_outside": {"earliest": "12:00pm", "latest": "11:00pm"},
    "reconfirm_ask": {"program_name": "Foot Care Reminders"},
    "reconfirm_ask_caregiver": {"program_name": "Foot Care Reminders", "person": "Maximiliano"},
    "reconfirmed": {"resumed": True},
    "time_moved": {"program_name": "Foot Care Reminders", "time": "12:00 PM", "was": "11:45 PM",
                   "earliest": "12:00 PM", "latest": "11:00 PM"},
    "tz_set": {"zone": "America/Argentina/ComodRivadavia", "time": "10:45 PM"},
    "paused": {"until": date(2027, 9, 29)}, "resumed": {"time": "10:45 PM"},
    "done": {"streak": 365}, "score_saved": {"score": 10}, "worsening": {"score": 10},
    "high_pain": {"score": 10, "urgent": False, "support": ""},
    "triage": {"level": "crisis", "category": "self_harm", "also_foot": True,
               "support": "555-0100"},
    "massage_set": {"on": False}, "voice_set": {"on": True},
    "heat_set": {"on": True}, "email_set": {"address": "maria.fernanda.lopez@example.org"},
    "email_suppressed": {"support": "555-0100"},
    "email_active": {"address": "maria.fernanda.lopez@example.org"},
    "email_wait": {"address": "maria.fernanda.lopez@example.org"},
    "frequency_lighter": {"days": [0, 1, 2, 3, 4, 5]},
    **{f"temp_{verdict}": {"left": "31.2", "right": "34.8", "unit": "C", "difference": "10.5",
                           "warmer": "right"} for verdict in ("normal", "remeasure", "hotspot")},
}


def test_spanish_replies_cost_no_more_segments_than_the_english() -> None:
    """One segment each, like the English, but for HELP, the welcome and the 988 reply (two):
    a reply that grows in translation is caught here."""
    from reminders.messages.replies import Replies

    english = Replies(TEMPLATES)
    spanish = english.in_language("es")
    names = english.names()
    assert names == spanish.names()
    assert len(names) >= 25
    for name in names:
        en = count_segments(english.render(name, **SAMPLE.get(name, {})))
        es = count_segments(spanish.render(name, **SAMPLE.get(name, {})))
        assert es.encoding == "GSM-7" and es.segments <= max(en.segments, 1), (name, es)


@pytest.mark.parametrize("budget", [1, 2])
def test_spanish_weekly_and_caregiver_texts_fit_and_keep_a_way_out(budget: int) -> None:
    from reminders.messages.weekly import WeeklyTexts
    from tests.messages.test_content_safety import NAMES, WEEKS, _facts

    texts = WeeklyTexts(TEMPLATES, "Foot Care Reminders", budget).in_language("es")
    for done, this, last in WEEKS:
        week = _facts(done, this, last)
        person = texts.person_sms(week)
        assert "SEMANAL NO" in person, person
        for body in [person] + [texts.caregiver_sms(name, week) for name in NAMES]:
            count = count_segments(body)
            assert count.encoding == "GSM-7" and count.segments <= budget, body
            assert "ALTO" in body and f"LISTO {done}" in body, body
            assert not check_item_text(body, ["weekly"]), body
            if not this:
                assert not re.search(r"dolor|promedio|prom\.", plain(body)), body
    for name in NAMES:
        for level, category, advice in (("same_day", "wound", "medico"),
                                        ("urgent", "gangrene", "sala de emergencias"),
                                        ("emergency", "breathing", "911")):
            alert = texts.alert(name, level, category, "today")
            count = count_segments(alert)
            assert count.encoding == "GSM-7" and count.segments <= budget, alert
            assert advice in plain(alert) and "ALTO" in alert and "hoy" in alert, alert
        invitation = texts.invitation(name, "555-0100")
        for needed in ("SI", "AYUDA", "ALTO", "Pueden aplicarse tarifas de mensajes y datos"):
            assert needed in invitation, (needed, invitation)
