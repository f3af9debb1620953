"""The triage of a text, level by level, written from ../shared/reference/foot-care-guidance.md
and DESIGN.md's "Triage levels" table, with texts the way people send them: misspellings, no
accents, Spanish verb forms, both languages mixed, negations and "it healed".

The labelled corpus (tests/triage/) measures the same function at scale; these rows pin the
rules one at a time, so that a change that breaks one says which.
"""

from __future__ import annotations

import time

import pytest

from reminders.domain.triage import Level, Triage, assess, triage

E, C, U, S, N, R, NIL = ("emergency", "crisis", "urgent", "same_day", "soon", "routine", "none")

ROWS: list[tuple[str, str, str | None, str, str]] = [
    # (text, language, cause, level, category or "")
    # -- 911: checked first ---------------------------------------------------------------------
    ("my calf is swollen and hot and I'm short of breath", "en", None, E, "breathing"),
    ("fell in the bathroom and hit my head", "en", None, E, "head_injury"),
    ("my foot is cold and white and numb suddenly", "en", None, E, "cold_foot"),
    ("toes blue and cold and it really hurts", "en", None, E, "cold_foot"),
    ("chest pain", "en", None, E, "chest_pain"),
    ("feeling dizzy and shaky, sugar is 45", "en", "diabetes", E, "low_sugar"),
    ("mi azúcar está en 40 y estoy mareado", "es", "diabetes", E, "low_sugar"),
    ("me duele el pecho", "es", None, E, "chest_pain"),
    ("no puedo respirar", "es", None, E, "breathing"),
    ("my toe wont stop bleeding", "en", None, E, "bleeding"),
    # -- 988 -------------------------------------------------------------------------------------
    ("I feel like hurting myself", "en", None, C, "self_harm"),
    ("I'm going to end it tonight", "en", None, C, "self_harm"),
    ("I have pills saved up", "en", None, C, "self_harm"),
    ("me quiero matar", "es", None, C, "self_harm"),
    ("quiero matarme", "es", None, C, "self_harm"),
    ("I just want to give up", "en", None, C, "self_harm"),
    # -- care now --------------------------------------------------------------------------------
    ("fever and chills", "en", "cancer_treatment", U, "fever"),
    ("tengo fiebre y escalofrios, estoy en quimio", "es", None, U, "fever"),
    ("temp 101.3 tonight", "en", "cancer_treatment", U, "fever"),
    ("red streaks going up my leg", "en", None, U, "spreading_infection"),
    ("the redness is spreading and I have a fever", "en", "diabetes", U, "spreading_infection"),
    ("blister on my heel and I feel sick", "en", "diabetes", U, "spreading_infection"),
    ("my toe turned black", "en", None, U, "gangrene"),
    ("el dedo se puso negro", "es", None, U, "gangrene"),
    # -- the doctor today ------------------------------------------------------------------------
    ("fever of 101 and chills", "en", "diabetes", S, "fever"),
    ("blistr on my big toe", "en", None, S, "wound"),
    ("sweling in my ankle", "en", None, S, "swelling"),
    ("se me hizo una ampoya", "es", None, S, "wound"),
    ("tengo una yaga en el pie", "es", None, S, "wound"),
    ("me corté el pie", "es", None, S, "wound"),
    ("me queme el pie con agua caliente", "es", None, S, "burn"),
    ("I burned my foot on the space heater", "en", None, S, "burn"),
    ("my right foot is hotter than the left one", "en", None, S, "warmth"),
    ("new pain in my left foot", "en", None, S, "pain"),
    ("me duele mucho el pie", "es", None, S, "pain"),
    ("my toenail came off", "en", None, S, "nail"),
    ("I have a splinter in my foot", "en", None, S, "foreign_body"),
    ("there's a crack in my heel that bleeds", "en", None, S, "wound"),
    ("el pie me huele feo", "es", None, S, "infection"),
    ("I can't feel my feet at all anymore", "en", None, S, "numbness"),
    ("not sure if it's a blister", "en", None, S, "wound"),  # doubt raises the flag
    ("no blister I think, not sure", "en", None, S, "wound"),  # a hedged no is no all-clear
    ("creo que no esta hinchado", "es", None, S, "swelling"),
    ("No blister but my toe is red", "en", None, S, "redness"),  # negation kept to its clause
    ("mi pie left esta hinchado", "es", None, S, "swelling"),  # mixed languages
    # -- the care team in the next days ----------------------------------------------------------
    ("tingling is much worse tonight", "en", "cancer_treatment", N, "numbness"),
    ("new numbness in my fingers", "en", "cancer_treatment", N, "numbness"),
    ("hormigueo peor en los pies", "es", None, N, "numbness"),
    ("Im so depressed", "en", None, N, "low_mood"),
    ("me siento muy triste y sola", "es", None, N, "low_mood"),
    # -- answered from the library ---------------------------------------------------------------
    ("is it ok to soak my feet in epsom salt?", "en", None, R, "soaking"),
    ("Can I use a heating pad on my feet", "en", None, R, "heating_pad"),
    ("puedo remojar los pies?", "es", None, R, "soaking"),
    ("my feet feel hot and burning tonight like always", "en", None, R, "symptoms"),
    ("I give up on the lotion, it makes my feet itch", "en", None, R, "skin"),
    ("my feet are numb as usual", "en", None, R, "symptoms"),
    # -- nothing to act on ---------------------------------------------------------------------
    ("no blisters today", "en", None, NIL, "none"),
    ("the cut healed", "en", None, NIL, "none"),
    ("Done. Feet look fine, no cuts", "en", None, NIL, "none"),
    ("ya se me quitó lo rojo del pie", "es", None, NIL, "none"),
    ("no tengo nada rojo ni hinchado", "es", None, NIL, "none"),
    ("I bought a new foot roller, the red one", "en", None, NIL, "none"),
    ("it is hot today", "en", None, NIL, "none"),
    ("warm socks on my feet feel nice", "en", None, NIL, "none"),
    ("my grandson cut his finger but hes ok", "en", None, NIL, "none"),
    ("thanks!", "en", None, NIL, "none"),
]


@pytest.mark.parametrize(("text", "language", "cause", "level", "category"), ROWS,
                         ids=[r[0][:40] for r in ROWS])
def test_the_level_and_category_of_a_text(text: str, language: str, cause: str | None,
                                          level: str, category: str) -> None:
    assert triage(text, language, cause=cause) == Triage(Level(level), category)


def test_fever_alone_depends_on_the_cause() -> None:
    """Fever on cancer treatment is care now; with diabetes alone it is the doctor today; with
    a foot finding it is care now whatever the cause."""
    assert triage("I have a fever", cause="cancer_treatment").level == Level.URGENT
    assert triage("I have a fever", cause="diabetes").level == Level.SAME_DAY
    assert triage("I have a fever", cause=None).level == Level.SAME_DAY
    assert triage("fever and my heel is red", cause="other").level == Level.URGENT


def test_the_other_language_is_always_read_too() -> None:
    assert triage("tengo una ampolla", "en").category == "wound"
    assert triage("my foot is swollen", "es").category == "swelling"


def test_the_most_urgent_finding_wins_and_the_others_are_kept() -> None:
    heard = assess("I want to die, my toe is black")
    assert heard.top == Triage(Level.CRISIS, "self_harm")
    assert heard.has(Level.URGENT)  # the foot is still answered and flagged


def test_despair_about_a_thing_is_not_a_crisis_but_words_of_distress_are_noted() -> None:
    heard = assess("STOP texting me, this is worthless")
    assert heard.top.level != Level.CRISIS and heard.distress


def test_good_reports_and_done_are_recognised() -> None:
    heard = assess("Done. Feet look fine, no cuts")
    assert heard.good and heard.done and heard.top.level == Level.NONE


@pytest.mark.parametrize("text", ["", "   ", "\U0001f622\U0001f622", "?!?!", "0" * 50,
                                  "\x00\x01 blister", "a" * 10_000])
def test_odd_input_never_raises(text: str) -> None:
    assert isinstance(triage(text), Triage)


def test_it_is_fast_and_bounded() -> None:
    texts = [row[0] for row in ROWS]
    for text in texts:  # warm the caches, as a running process has
        triage(text)
    start = time.perf_counter()
    for _ in range(10):
        for text in texts:
            triage(text)
    per_text = (time.perf_counter() - start) / (10 * len(texts))
    assert per_text < 0.002, per_text  # under 1 ms typical; 2 ms leaves room on a busy CI box
    hostile = ("blistr sweling ampoya yaga " * 400)[:10_000]
    start = time.perf_counter()
    triage(hostile)
    assert time.perf_counter() - start < 0.25
