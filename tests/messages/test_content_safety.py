"""The clinical content rules of DESIGN.md, checked on what people actually receive.

An independent checker: it does not use the selection code (reminders/content.py). It renders
`preview` for many profiles on every date of a year, then reads the SMS body and the items
with its own word lists, as a foot-care nurse reading the texts would. The library file is
read here with tomllib directly, not through load_library.
"""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from datetime import date
from itertools import product
from typing import Any

import pytest

from reminders.domain.channels import parse_set
from reminders.domain.subscriber import Subscriber
from reminders.messages.render import Renderer
from reminders.settings import PROJECT_ROOT
from testing.sms_segments import count as count_segments  # our own counter, not the product's
from tests import sweep
from tests.messages.test_content_instructions import segments

TEMPLATES = PROJECT_ROOT / "templates"
RAW = tomllib.loads((TEMPLATES / "content" / "library.toml").read_text(encoding="utf-8"))
ENTRIES: list[dict[str, Any]] = [entry for section in ("check", "routine", "tip", "safety")
                                 for entry in RAW[section]]
YEAR = sweep.year()  # every evening of 2027 (every 5th under make check)

# -- the checker's own vocabulary --------------------------------------------------------------
NEGATION = r"(never|not|no|don't|do not|avoid|without)"
MASSAGE_WORDS = re.compile(r"\b(massag\w*|rub\w*|knead\w*|roll(s|ing)? (each|your|a|the) "
                           r"(sole|arch|calf|calves|foot|feet)|roller|stroke\w*|press\w*)\b", re.I)
# Warm water on the feet, in any form: it must be tested with the elbow or a thermometer.
WARM_WATER = re.compile(r"warm,? (not hot,? )?water|\bwash(ing)? (your |both )?feet|\bbath\b|"
                        r"\bbasin\b|warm\w* (a )?towel|towel\w* [^.]*warm|footbath", re.I)
HEAT_DEVICES = re.compile(r"heating pad|hot-water bottle|hot water bottle|electric blanket", re.I)
DIAGNOSES = re.compile(r"neuropath\w*|diabet\w*|chemo\w*|cancer", re.I)
BRITISH = re.compile(r"\b(colour\w*|centre\w*|moisturis\w*|cosy|grey|favourite\w*|odour\w*|"
                     r"practise\w*|programme\w*|metre\w*|jewellery|behaviour\w*|mould\w*)\b", re.I)
CLAIMS = re.compile(r"\b(cure\w*|heal your nerves|repair\w*|revers\w*|immun\w*|guarantee\w*|"
                    r"will (ease|reduce|heal|fix|stop))\b", re.I)
# Movements: one night names each at most once (the routine and the tip must not overlap).
MOVEMENTS = {
    "ankle circles": r"ankle circles?|circle (each|your) (ankle|foot)",
    "feet up": r"feet (up|raised)|(raise|rest|prop) your (feet|legs|heels|calves)|"
               r"on a pillow|on a (foot)?stool|on a cushion",
    "calf stretch": r"calf stretch|stretch (each|your) calf|heel (down|on the floor)",
    "towel stretch": r"towel (around|under)|loop a towel",
    "toe spread": r"spread your toes",
    "point and flex": r"point and flex|flex your feet|flex each foot",
    "walk": r"\bwalk\b",
    "knee lifts": r"lift each knee|seated march|march",
    "sole roll": r"roll (each|your) sole",
}
# Stems a short variant must keep when its long form has them (DESIGN.md: a short variant
# keeps every safety word of its long form).
SAFETY_STEMS = ("sit", "light", "gentl", "skip", "wound", "blister", "swell", "sore", "red",
                "warm", "hot", "elbow", "thermometer", "clot", "doctor", "clinic", "call",
                "today", "broken", "between", "sock", "stop", "rash", "dry", "cut", "color",
                "sole", "both", "heating pad", "barefoot", "straight", "corn", "burn", "shoe",
                "slipper")
NEGATIONS = re.compile(r"\b(never|not|no|don't|do not|avoid|without|skip)\b", re.I)


def has(text: str, *stems: str) -> bool:
    return all(re.search(r"\b" + re.escape(stem), text, re.I) for stem in stems)


def check_item_text(text: str, tags: list[str]) -> list[str]:
    """Every rule one item's text must keep, whatever night it is sent on."""
    return [*_heat_and_water(text), *_massage(text, tags), *_wording(text)]


def _heat_and_water(text: str) -> list[str]:
    problems = []
    if re.search(r"\bsoak", text, re.I) and not re.search(NEGATION + r"\W+(\w+\W+){0,2}soak",
                                                          text, re.I):
        problems.append("tells people to soak their feet")
    if WARM_WATER.search(text) and not re.search(r"elbow|thermometer", text, re.I):
        problems.append("warm water not tested with the elbow or a thermometer")
    if re.search(r"\b(test|check)\w*\b[^.]*?(?<!never )(?<!not )with (your|the) "
                 r"(hand|foot|feet|toe)", text, re.I):
        problems.append("tests temperature with the hand or foot")
    if any(not _negated_in_clause(text, match.start()) for match in HEAT_DEVICES.finditer(text)):
        problems.append("suggests a heating pad, hot-water bottle or electric blanket")
    return problems


def _negated_in_clause(text: str, position: int) -> bool:
    """Whether the clause that leads up to `position` says no ("Never put a hot-water bottle,
    heating pad ..."); "A heating pad can burn skin that does not feel heat" does not."""
    clause = re.split(r"[.;:!?]", text[:position])[-1]
    return bool(re.search(r"\b" + NEGATION + r"\b", clause, re.I))


def _massage(text: str, tags: list[str]) -> list[str]:
    problems = []
    # A routine that asks for massage (a safety note may mention massage only to rule it out).
    massage = "routine" in tags and ("massage" in tags or bool(MASSAGE_WORDS.search(text)))
    if massage and not has(text, "wound", "blister", "swell", "sore"):
        problems.append("massage without the skip clause (wound, blister, swelling, sore)")
    if massage and re.search(r"\bcal(f|ves)\b", text, re.I) and not has(text, "call", "doctor"):
        problems.append("calf massage without the clot warning")
    if re.search(r"\b(ball|roller)\b", text, re.I) and not re.search(r"\bsit", text, re.I):
        problems.append("ball or roller not done sitting down")
    if re.search(r"\b(oil|lotion|cream)\b", text, re.I) and "routine" in tags \
            and not has(text, "broken", "between", "sock"):
        problems.append("oil or lotion routine without broken skin / between toes / socks")
    return problems


def _wording(text: str) -> list[str]:
    return [rule for rule, pattern in (("names a diagnosis", DIAGNOSES),
                                       ("British spelling", BRITISH),
                                       ("promises a cure", CLAIMS)) if pattern.search(text)]


def movements_in(text: str) -> set[str]:
    return {name for name, pattern in MOVEMENTS.items() if re.search(pattern, text, re.I)}


# -- the library file, item by item -----------------------------------------------------------
@pytest.mark.parametrize("entry", ENTRIES, ids=[e["id"] for e in ENTRIES])
def test_every_item_keeps_the_content_rules(entry: dict[str, Any]) -> None:
    kind = entry["id"][0]
    tags = [*entry["tags"], {"r": "routine", "t": "tip", "s": "safety", "c": "check"}[kind]]
    for field in ("text", "short", "why"):
        problems = check_item_text(entry[field], tags if field != "why" else ["why"])
        if field == "why":  # the email's explanation: it may describe, never suggest
            problems = [p for p in problems if p in (
                "names a diagnosis", "British spelling", "promises a cure",
                "tells people to soak their feet",
                "suggests a heating pad, hot-water bottle or electric blanket")]
        assert not problems, f"{entry['id']}.{field}: {problems}: {entry[field]!r}"


# Every short keeps each instruction of its item: tests/messages/test_content_instructions.py.


def test_every_heat_item_names_the_elbow_or_a_thermometer() -> None:
    heat = [e for e in ENTRIES if "heat" in e["tags"] or "water" in e["tags"]]
    assert heat
    for entry in heat:
        for field in ("text", "short"):
            if re.search(r"\bwarm|\bwash|\bbath|\bwater", entry[field], re.I):
                assert re.search(r"elbow|thermometer", entry[field], re.I), (entry["id"], field)


def test_benefits_are_stated_as_may_or_can() -> None:
    for entry in ENTRIES:
        if entry["id"][0] in "rt":
            assert re.search(r"\b(may|can|might)\b", entry["why"]), entry["id"]


def test_foot_checks_name_both_feet_soles_toes_and_what_to_look_for() -> None:
    assert len(RAW["check"]) >= 3
    for entry in RAW["check"]:
        for field in ("text", "short"):
            assert has(entry[field], "both", "sole", "between", "toe", "cut", "blister", "red",
                       "swell", "color"), (entry["id"], field)


# -- every night of a year, for every kind of person ---------------------------------------------
PROFILES = list(product((False, True), (False, True), (False, True),
                        ("", "Ana", "Maximiliana-Theodora")))


def _person(n: int, heat: bool, massage: bool, flag: bool, name: str) -> Subscriber:
    from datetime import time

    return Subscriber(id=f"p{n:04d}", phone="+15005550006", email="a@example.org", name=name,
                      timezone="America/Chicago", send_time=time(20, 0), channels=parse_set("both"),
                      sms_status="active", heat_ok=heat, massage_ok=massage,
                      flag_until=date(2099, 1, 1) if flag else None)


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer(TEMPLATES, "Foot Care Reminders", max_segments=2)


@pytest.mark.parametrize(("heat", "massage", "flag", "name"), PROFILES)
def test_every_night_of_a_year_is_safe(renderer: Renderer, heat: bool, massage: bool,
                                       flag: bool, name: str) -> None:
    for n, day in enumerate(YEAR):
        sub = _person(n % 7, heat, massage, flag, name)
        preview = renderer.tonight(sub, day).preview()
        body: str = preview["sms"]["body"]  # type: ignore[index]
        where = f"{sub.id} {day} heat={heat} massage={massage} flag={flag}: {body!r}"
        assert segments(body) <= ("GSM-7", 2), where  # the checker's own counter
        lines = body.splitlines()
        first = next(n for n, line in enumerate(lines) if line.startswith("1. "))
        assert first <= 1 and has(lines[first], "both", "sole", "between", "toe"), where
        items: list[dict[str, Any]] = preview["items"]  # type: ignore[assignment]
        seen: Counter[str] = Counter()
        for item in items:
            assert item["text"] in body, where
            assert not check_item_text(item["text"], [*item["tags"], item["kind"]]), where
            seen.update(movements_in(item["text"]))
        assert all(c == 1 for c in seen.values()), f"repeated movement {seen}: {where}"
        doing = [i for i in items if i["kind"] in ("routine", "tip")]
        doing = [i for i in items if i["kind"] in ("routine", "tip")]
        asks_massage = any(MASSAGE_WORDS.search(i["text"]) for i in doing)
        asks_heat = any(WARM_WATER.search(i["text"]) for i in doing)
        if flag or not massage:
            assert not asks_massage, where
        if flag or not heat:
            assert not asks_heat, where


def test_people_without_massage_get_varied_safety_notes(renderer: Renderer) -> None:
    sub = _person(1, False, False, False, "Ana")
    notes = Counter(renderer.tonight(sub, day).selection.safety.id for day in sweep.evenings(28))
    assert len(notes) >= 14, notes
    topics = " ".join(renderer.tonight(sub, day).sms.body for day in sweep.evenings(60)).lower()
    for topic in (r"moistur|lotion", r"elbow", r"between (your )?toes", r"nail", r"barefoot|shoes"):
        assert re.search(topic, topics), topic


def test_most_massage_nights_are_massage_with_its_cautions(renderer: Renderer) -> None:
    sub = _person(2, False, True, False, "Ana")
    massage_nights = [renderer.tonight(sub, day).sms.body for day in YEAR
                      if "massage" in renderer.tonight(sub, day).selection.routine.tags]
    assert len(massage_nights) >= 60 // sweep.STEP  # most of a year's massage evenings
    for body in massage_nights:
        assert has(body, "wound", "blister", "swell", "sore"), body


# -- the weekly progress text, the caregiver texts ----------------------------------------------
# Every texted summary, caregiver alert and invitation, for many weeks, names and budgets: the
# same rules as the nightly text where they apply (GSM-7, the budget, no diagnosis, no cure, US
# spelling), and their own: a way out in each, nothing about pain when no score was sent, the
# direction of the change as the scores say (worked out here, not by domain/weekly.py).
WEEKS = [  # (DONE evenings this week, this week's scores, last week's scores)
    (0, [], []), (7, [], []), (5, [4, 4, 5, 3], [5, 5, 5]), (3, [8, 9], [4]),
    (1, [6], []), (6, [2, 2, 2], [2, 3, 2]), (2, [10, 10, 10, 10, 10, 10, 10], [0]),
    (4, [], [6, 6]), (7, [0], [10, 9]),
]
NAMES = ("", "Ana", "Maximiliana-Theodora Fitzgerald-Smythe")
TO_STOP = re.compile(r"\bSTOP\b")


def _facts(done: int, this: list[int], last: list[int]) -> Any:
    from reminders.domain.weekly import Evening, evenings_before, facts

    summary = date(2027, 3, 7)
    days = evenings_before(summary)
    evenings = []
    for n, day in enumerate(days):
        back = len(days) - n  # 1 = the evening before the summary
        score = (this[back - 1] if back <= len(this) else None) if back <= 7 else (
            last[back - 8] if back - 8 < len(last) else None)
        evenings.append(Evening(day, back <= done, score))
    return facts(summary, evenings)


def _mean(scores: list[int]) -> float:
    return sum(scores) / len(scores)


@pytest.mark.parametrize("budget", [1, 2])
@pytest.mark.parametrize(("done", "this", "last"), WEEKS)
def test_weekly_and_caregiver_texts_are_safe(budget: int, done: int, this: list[int],
                                             last: list[int]) -> None:
    from reminders.messages.weekly import WeeklyTexts

    texts = WeeklyTexts(TEMPLATES, "Foot Care Reminders", budget)
    week = _facts(done, this, last)
    bodies = [texts.person_sms(week)] + [texts.caregiver_sms(name, week) for name in NAMES]
    for body in bodies:
        count = count_segments(body)
        assert count.encoding == "GSM-7" and count.segments <= budget, body
        assert not _wording(body), body
        assert TO_STOP.search(body), body
        assert f"{done}" in body and "7" in body, body
        if not this:
            assert not re.search(r"pain|score|average|avg", body, re.I), body
        else:
            assert f"{round(_mean(this))}" in body, body
    assert "WEEKLY OFF" in bodies[0]
    if this and last and budget == 2:
        delta = _mean(this) - _mean(last)
        said = bodies[0].lower()
        if delta <= -0.5:
            assert "lower" in said and "higher" not in said, said
        elif delta >= 0.5:
            assert "higher" in said and "lower" not in said, said
            assert "tell your care team in the next few days" in said, said
            assert "well done" not in said and "keep going" not in said, said  # no praise
        else:
            assert "about the same" in said, said


@pytest.mark.parametrize("budget", [1, 2])
@pytest.mark.parametrize("name", NAMES)
def test_caregiver_alert_and_invitation_are_safe(budget: int, name: str) -> None:
    from reminders.messages.weekly import WeeklyTexts

    texts = WeeklyTexts(TEMPLATES, "Foot Care Reminders", budget)
    # The category and our advice, never their words (which may hold more than they agreed
    # to share); every category the triage can flag or call an emergency, either time of day.
    for level, category, advice in (("same_day", "wound", "doctor"),
                                    ("same_day", "numbness", "doctor"),
                                    ("urgent", "spreading_infection", "urgent care"),
                                    ("emergency", "cold_foot", "911"),
                                    ("emergency", "chest_pain", "911")):
        for when in ("today", "tonight"):
            alert = texts.alert(name, level, category, when)
            count = count_segments(alert)
            assert count.encoding == "GSM-7" and count.segments <= budget, alert
            assert has(alert, advice) and TO_STOP.search(alert) and when in alert, alert
            assert not _wording(alert) and '"' not in alert, alert
    invitation = texts.invitation(name, "555-0100")
    for needed in ("Foot Care Reminders", "YES", "HELP", "STOP", "Msg&data rates may apply"):
        assert needed in invitation, (needed, invitation)
    assert count_segments(invitation).encoding == "GSM-7" and not _wording(invitation)
