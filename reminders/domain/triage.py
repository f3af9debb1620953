"""How urgent a text about the body is: a level and a category, checked most urgent first.

Pure, no I/O. triage_read.py reads the text (both languages, misspellings, negation, resolution,
"hot/red" only about a body part) into concepts per sentence; the RULES below turn them into
findings. The most urgent finding is the answer (DESIGN.md "Triage levels"):

- emergency: call 911 now (chest pain, breathing, stroke, head hit, a foot suddenly cold and
  pale, very low sugar with symptoms, bleeding that will not stop, fainting);
- crisis: self-harm or suicide, said about oneself ("I give up on the lotion" is not);
- urgent: care now (fever or chills on cancer treatment; fever or feeling sick with a foot
  problem; spreading redness or red streaks; a black toe or gangrene; unbearable pain);
- same_day: call the doctor today (wound, blister, burn, bleeding, redness, warmth, swelling,
  pus, smell, colour, injury, something stepped on, a nail off, new or severe pain, sudden
  numbness, fever alone, a low or high sugar);
- soon: the care team in the next days (worse numbness or tingling, hands; low mood; pain
  getting worse);
- routine: chronic symptoms and the safety questions (soaking, heating pads, barefoot, corns);
- none: nothing of the above (thanks, good news, commands, "no blisters today").

When unsure the rules lean to the more urgent answer: missing a problem costs more than a call.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from reminders.domain.triage_numbers import add_numbers, despair_about_self
from reminders.domain.triage_read import Reading, read


class Level(StrEnum):
    EMERGENCY = "emergency"
    CRISIS = "crisis"
    URGENT = "urgent"
    SAME_DAY = "same_day"
    SOON = "soon"
    ROUTINE = "routine"
    NONE = "none"


ORDER = tuple(Level)  # most urgent first
# The levels that open a flag (a foot problem someone must follow up) and stop massage/heat.
FLAG_LEVELS = frozenset({Level.URGENT, Level.SAME_DAY})
CAUSES = ("diabetes", "cancer_treatment", "other")


@dataclass(frozen=True)
class Triage:
    level: Level
    category: str


NOTHING = Triage(Level.NONE, "none")


@dataclass(frozen=True)
class Assessment:
    """Everything the rules found, most urgent first (`top` is what triage() returns)."""

    findings: tuple[Triage, ...]
    distress: bool  # despair or self-harm words, even about a thing ("this is worthless")
    good: bool  # a good report: "no blisters today", "feet look fine"
    done: bool  # says the routine is done

    @property
    def top(self) -> Triage:
        return self.findings[0] if self.findings else NOTHING

    def has(self, level: Level) -> bool:
        return any(f.level == level for f in self.findings)

    def first(self, levels: frozenset[Level]) -> Triage | None:
        return next((f for f in self.findings if f.level in levels), None)


@dataclass(frozen=True)
class Rule:
    level: Level
    category: str
    all_of: tuple[str, ...]
    any_of: tuple[str, ...] = ()
    none_of: tuple[str, ...] = ()
    sentence: bool = False  # all in one sentence (else anywhere in the text)


def _r(level: Level, category: str, *all_of: str, any_of: tuple[str, ...] = (),
       none_of: tuple[str, ...] = (), sentence: bool = False) -> Rule:
    return Rule(level, category, all_of, any_of, none_of, sentence)


E, C, U, S, N, R = (Level.EMERGENCY, Level.CRISIS, Level.URGENT, Level.SAME_DAY, Level.SOON,
                    Level.ROUTINE)
# Within a level the first rule that holds names the category.
RULES: tuple[Rule, ...] = (
    _r(E, "chest_pain", "CHEST_PAIN"),
    _r(E, "breathing", "BREATH"),
    _r(E, "stroke", "STROKE"),
    _r(E, "head_injury", "HEAD_HIT"),
    _r(E, "head_injury", "FALL", "HEAD"),
    _r(E, "fainting", "FAINT"),
    _r(E, "cold_foot", "COLD", "PALE", any_of=("SUDDEN", "PAIN", "NUMB", "CANT_FEEL"),
       sentence=True),
    _r(E, "cold_foot", "PALE", "SUDDEN", any_of=("PAIN", "NUMB", "COLD", "CANT_FEEL"),
       sentence=True),
    _r(E, "cold_foot", "COLD", "SUDDEN", any_of=("PAIN", "NUMB", "CANT_FEEL"), sentence=True),
    _r(E, "low_sugar", "SUGAR_VERY_LOW"),
    _r(E, "low_sugar", "SUGAR_LOW", "HYPO_SYMPTOM"),
    _r(E, "low_sugar", "LOW_SUGAR", "HYPO_SYMPTOM"),
    _r(E, "bleeding", "BLEED_NONSTOP"),
    _r(E, "bleeding", "BLEED", "WONT_STOP", sentence=True),
    _r(E, "emergency", "AMBULANCE"),
    _r(C, "self_harm", "CRISIS"),
    _r(C, "self_harm", "DESPAIR_SELF"),
    _r(C, "self_harm", "SELF_INFLICTED", any_of=("WOUND", "INJURY", "BURN", "BLEED", "PAIN"),
       sentence=True),
    _r(U, "fever", "FEVER", "CHEMO_CONTEXT"),
    _r(U, "spreading_infection", "STREAKS"),
    _r(U, "spreading_infection", "SPREADING",
       any_of=("RED", "REDNESS", "WOUND", "INFECTION", "HOT"),
       sentence=True),
    _r(U, "spreading_infection", "FEVER", "FOOT_FINDING"),
    _r(U, "spreading_infection", "UNWELL", "FOOT_FINDING"),
    _r(U, "gangrene", "GANGRENE"),
    _r(U, "gangrene", "BLACK", none_of=("NAIL_OFF", "BRUISE"), sentence=True),
    _r(U, "severe_pain", "SEVERE_PAIN"),
    _r(S, "wound", "WOUND"),
    _r(S, "wound", "WOUND_BODY"),
    _r(S, "wound", "CRACK", any_of=("BLEED", "PAIN", "RED", "INFECTION", "SWELL"),
       sentence=True),
    _r(S, "burn", "BURN"),
    _r(S, "bleeding", "BLEED"),
    _r(S, "nail", "NAIL_OFF"),
    _r(S, "foreign_body", "FOREIGN"),
    _r(S, "injury", "FALL"),
    _r(S, "injury", "INJURY"),
    _r(S, "calf", "CALF", "CALF_SIGN", sentence=True),
    _r(S, "redness", "RED"),
    _r(S, "redness", "REDNESS"),
    _r(S, "warmth", "ONE_WARMER"),
    _r(S, "warmth", "HOT"),
    _r(S, "swelling", "SWELL"),
    _r(S, "infection", "INFECTION"),
    _r(S, "infection", "SMELL"),
    _r(S, "color", "COLOR"),
    _r(S, "color", "BLACK"),
    _r(S, "color", "PALE"),
    _r(S, "pain", "PAIN", any_of=("NEW", "STRONG"), none_of=("SEVERE_PAIN",), sentence=True),
    _r(S, "numbness", "CANT_FEEL", none_of=("HAND",), sentence=True),
    _r(S, "numbness", "NUMB", any_of=("SUDDEN", "NEW"), none_of=("HAND",), sentence=True),
    _r(S, "fever", "FEVER"),
    _r(S, "low_sugar", "LOW_SUGAR"),
    _r(S, "low_sugar", "SUGAR_LOW"),
    _r(S, "high_sugar", "SUGAR_HIGH"),
    _r(S, "high_sugar", "HIGH_SUGAR"),
    _r(N, "numbness", "NUMB", any_of=("WORSE", "NEW", "HAND"), sentence=True),
    _r(N, "numbness", "TINGLE", any_of=("WORSE", "NEW", "HAND"), sentence=True),
    _r(N, "numbness", "CANT_FEEL"),
    _r(N, "low_mood", "LOW_MOOD"),
    _r(N, "pain", "PAIN", "WORSE", sentence=True),
    _r(N, "pain", "BURNING", "WORSE", sentence=True),
    _r(R, "soaking", "SOAK"),
    _r(R, "heating_pad", "HEAT_DEVICE"),
    _r(R, "barefoot", "BAREFOOT"),
    _r(R, "corns", "CORN"),
    _r(R, "nails", "NAIL_CARE"),
    _r(R, "symptoms", "BURNING"),
    _r(R, "symptoms", "TINGLE"),
    _r(R, "symptoms", "NUMB"),
    _r(R, "symptoms", "PAIN"),
    _r(R, "symptoms", "CRAMP"),
    _r(R, "symptoms", "COLD"),
    _r(R, "skin", "ITCH"),
    _r(R, "skin", "SWEAT"),
    _r(R, "skin", "DRY"),
    _r(R, "skin", "CRACK"),
    _r(R, "score", "SCORE"),
    _r(R, "question", "QUESTION", "CARE_TOPIC"),
)
FOOT_CATEGORIES = frozenset(r.category for r in RULES if r.level == S) - {
    "fever", "low_sugar", "high_sugar"}
# What opens a flag (an open foot problem): a foot finding at urgent or same-day level. Fever,
# sugars and severe pain alone go to the inbox, not the foot flag.
FLAG_CATEGORIES = tuple(sorted(FOOT_CATEGORIES | {"gangrene", "spreading_infection"}))


def foot_problem(assessment: Assessment) -> Triage | None:
    """The most urgent finding that is a foot problem to flag, if any."""
    return next((f for f in assessment.findings
                 if f.level in FLAG_LEVELS and f.category in FLAG_CATEGORIES), None)


def triage(text: str, language: str = "en", *, cause: str | None = None) -> Triage:
    """The level and category of a text. `language` is the person's (both languages' words are
    always read: people mix them); `cause` is why their feet are numb (diabetes,
    cancer_treatment, other, or None when not known)."""
    return assess(text, language, cause=cause).top


def assess(text: str, language: str = "en", *, cause: str | None = None) -> Assessment:
    del language  # both tables are always read; kept for callers that know it
    reading = read(text or "")
    sentences = _concepts_by_sentence(reading, cause)
    everywhere = set().union(*sentences) if sentences else set()
    found = _apply(sentences, everywhere, (S,))
    if any(f.category in FOOT_CATEGORIES for f in found):
        everywhere.add("FOOT_FINDING")
    findings = _apply(sentences, everywhere, ORDER)
    findings.sort(key=lambda f: ORDER.index(f.level))
    lowered = {h.concept for h in reading.lowered}
    return Assessment(
        findings=tuple(dict.fromkeys(findings)),
        distress=bool(everywhere & {"CRISIS", "DESPAIR", "LOOSE_DISTRESS", "LOW_MOOD"}),
        good=bool(everywhere & {"GOOD"}) or bool(lowered),
        done="DONE" in everywhere)


def _apply(sentences: list[set[str]], everywhere: set[str], levels: tuple[Level, ...]
           ) -> list[Triage]:
    found: list[Triage] = []
    seen_levels: set[Level] = set()
    for rule in RULES:
        if rule.level not in levels or rule.level in seen_levels:
            continue
        scopes = sentences if rule.sentence else [everywhere]
        if any(_holds(rule, concepts) for concepts in scopes):
            found.append(Triage(rule.level, rule.category))
            seen_levels.add(rule.level)
    return found


def _holds(rule: Rule, concepts: set[str]) -> bool:
    return (all(c in concepts for c in rule.all_of)
            and (not rule.any_of or any(c in concepts for c in rule.any_of))
            and not any(c in concepts for c in rule.none_of))


def _concepts_by_sentence(reading: Reading, cause: str | None) -> list[set[str]]:
    count = (reading.sentence_of[-1] + 1) if reading.sentence_of else 0
    sentences: list[set[str]] = [set() for _ in range(count)]
    for hit in reading.standing:
        sentences[reading.sentence_of[hit.start]].add(hit.concept)
    add_numbers(reading, sentences)
    about_self = despair_about_self(reading)
    if about_self is not None and sentences:
        sentences[0].add("DESPAIR_SELF" if about_self else "LOW_MOOD")
    if cause == "cancer_treatment" and sentences:
        sentences[0].add("CHEMO_CONTEXT")
    if any("CHEMO" in s for s in sentences):
        sentences[0].add("CHEMO_CONTEXT")
    return sentences
