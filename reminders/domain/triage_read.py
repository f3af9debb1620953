"""Reading a text for the triage: words, the concepts they name, and which of those still stand.

Pure, no I/O. The steps, in order: fold (lower case, accents off, apostrophes gone), cut into
words and sentences, correct misspelt words (Spanish sounds first: "yaga" is "llaga", then
edit distance with rapidfuzz), find the phrases of the word tables (both languages, always:
people mix them), then set aside what does not stand: words inside a harmless phrase ("fell
asleep"), words negated in their own phrase ("no blisters", "ni hinchado") unless their sentence
doubts it ("no blister I think, not sure" stands), words resolved in their own clause ("the cut
healed", "ya se me quitó lo rojo"), colour and warmth words not about a body part ("hot water",
"the red one"), and sensations said to be as usual ("burning like always"). What is left is a
set of concepts per sentence, for the rules in triage.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from reminders.domain.triage_phrases import Hit, correct, hits_of, tokens

NEGATION_REACH = 6  # words after "no" / "not" that it can still negate
CLAUSE_REACH = 6  # words between a finding and "healed" / "se quitó"
BODY_REACH = 10  # words between "red" / "hot" and the foot it must be about
HARD_BREAKS = frozenset({".", ";", "!", "?"})
SOFT_BREAKS = frozenset({",", "and", "y", "&", "/"})

# Concepts a harmless phrase ("hot water", "sore muscles") cancels when it contains them.
CANCELLABLE = frozenset({
    "WOUND", "WOUND_BODY", "CRACK", "BURN", "BLEED", "RED", "REDNESS", "HOT", "SWELL", "INFECTION",
    "SMELL", "COLOR", "BLACK", "PALE", "COLD", "FALL", "INJURY", "FOREIGN", "PAIN", "STRONG",
    "HEAD", "HEAD_HIT", "SUGAR", "LOW_SUGAR", "FEVER", "NEW", "SUDDEN", "CALF_SIGN", "BODY",
    "STROKE", "CHEST_PAIN", "SPREADING", "NAIL_OFF"})
# Concepts negation and resolution never lower: they carry their own negations ("I don't want
# to live") or are not findings at all.
NEVER_NEGATED = frozenset({
    "CRISIS", "DESPAIR", "LOOSE_DISTRESS", "NEGATOR", "DOUBT", "BREAK", "THING", "BODY",
    "QUESTION", "CHRONIC", "RESOLVED", "GOOD", "DONE", "NOT_FINDING", "DESPAIR_TAIL", "HAND",
    "CHEMO", "FORMS", "COMMON_WORDS", "CALF", "SUGAR", "OTHER", "FIRST_PERSON", "CARE_TOPIC",
    "SCORE", "SELF_INFLICTED", "SOFTENER"})
# Only about a body part: "my heel is red", never "the red one" or "hot water".
NEEDS_BODY = frozenset({"RED", "HOT", "COLOR", "BLACK", "PALE", "COLD", "WOUND_BODY"})
BODY_ANCHORS = frozenset({"BODY", "WOUND", "SWELL", "INFECTION", "CALF", "CRACK", "HAND",
                          "REDNESS"})
# As usual ("burning like always") is a chronic symptom, not a new one.
CHRONIC_DROPS = frozenset({"HOT", "NEW", "SUDDEN", "STRONG", "CANT_FEEL"})
@dataclass(frozen=True)
class Reading:
    words: tuple[str, ...]
    sentence_of: tuple[int, ...]  # the sentence of each word
    standing: tuple[Hit, ...]  # hits still standing, after negation, resolution, body checks
    lowered: tuple[Hit, ...]  # findings that were negated or resolved ("no blisters")


def _inside(inner: Hit, outer: Hit) -> bool:
    return (outer.start <= inner.start and inner.end <= outer.end
            and outer.end - outer.start > inner.end - inner.start)


# Phrases whose own negation is part of what they say ("not healing", "no puedo respirar",
# "not sure if"): a negator inside them negates nothing else.
_NOT_ABSORBING = frozenset({"NEGATOR", "GOOD", "NOT_FINDING", "RESOLVED", "THING", "BODY",
                            "CHRONIC", "DESPAIR_TAIL", "FORMS", "QUESTION"})
_AFTER_WORD_NEGATIONS = frozenset({"none", "no", "nope", "nothing", "ninguna", "ninguno",
                                   "nada", "cero", "zero", "negative"})


class _Text:
    """One text's words and hits, with the questions the steps ask about positions."""

    def __init__(self, words: list[str]) -> None:
        self.words = words
        sentence, self.sentence_of = 0, []
        for word in words:
            self.sentence_of.append(sentence)
            sentence += word in HARD_BREAKS
        self.hits = hits_of(words)
        self.breaks = {h.start for h in self.hits if h.concept == "BREAK"}
        self.in_finding = {i for h in self.hits if h.concept in CANCELLABLE
                           for i in range(h.start, h.end)}

    def scope_end(self, start: int, reach: int) -> int:
        """Where a negation that starts at `start` stops: a full stop, "but", or a comma or
        "and" that starts something other than more findings ("no cuts, bruises or blisters"
        is one list; "no cuts, my heel is red" is two clauses)."""
        end = start
        while end < len(self.words) and end < start + reach:
            word = self.words[end]
            if word in HARD_BREAKS or end in self.breaks:
                break
            if word in SOFT_BREAKS and end + 1 not in self.in_finding:
                break
            end += 1
        return end

    def same_clause(self, a: int, b: int) -> bool:
        low, high = min(a, b), max(a, b)
        if self.sentence_of[low] != self.sentence_of[high] or high - low > CLAUSE_REACH:
            return False
        return not any(i in self.breaks for i in range(low + 1, high + 1))

    def negated(self, hit: Hit, negators: list[Hit]) -> bool:
        for neg in negators:
            if neg.start < hit.start and hit.start < self.scope_end(neg.end, NEGATION_REACH):
                return True
        after = hit.end
        while after < len(self.words) and self.words[after] in (",", "?", "/"):
            after += 1
        if after < len(self.words) and self.words[after] in _AFTER_WORD_NEGATIONS:
            return after + 1 == len(self.words) or self.words[after + 1] in HARD_BREAKS
        return False

    def near(self, hit: Hit, concepts: frozenset[str], reach: int) -> bool:
        sentence = self.sentence_of[hit.start]
        for other in self.hits:
            if other.concept in concepts and self.sentence_of[other.start] == sentence and (
                    other.start - hit.end < reach and hit.start - other.end < reach):
                return True
        return False

    def thing_beside(self, hit: Hit) -> bool:
        for other in self.hits:
            if other.concept != "THING":
                continue
            after = 0 <= other.start - hit.end < 2
            before = 0 <= hit.start - other.end < 2
            if (after and all(w[0].isalnum() for w in self.words[hit.end:other.start])) or (
                    before and all(w[0].isalnum() for w in self.words[other.end:hit.start])):
                return True
        return False


def _someone_else(t: _Text, hits: list[Hit]) -> set[int]:
    """Positions about someone else: after "my grandson", "his", "mi nieto" in the same clause,
    until the person speaks of themselves again ("my husband says my foot is red")."""
    others = [h for h in hits if h.concept == "OTHER"]
    mine = sorted(h.start for h in hits if h.concept == "FIRST_PERSON"
                  and not any(_inside(h, o) or h.start == o.start for o in others))
    found: set[int] = set()
    for other in others:
        at = other.end
        while at < len(t.words) and t.same_clause(other.start, at) and at not in mine:
            found.add(at)
            at += 1
    return found


def read(text: str) -> Reading:
    t = _Text([correct(w) for w in tokens(text)])
    harmless = [h for h in t.hits if h.concept == "NOT_FINDING"]
    hits = [h for h in t.hits if not (h.concept in CANCELLABLE
                                      and any(_inside(h, g) or h == Hit(h.concept, g.start, g.end)
                                              for g in harmless))]
    negators = [h for h in hits if h.concept == "NEGATOR" and not any(
        _inside(h, g) for g in hits if g.concept not in _NOT_ABSORBING)]
    all_negators = [h for h in hits if h.concept == "NEGATOR"]
    resolutions = [r for r in hits if r.concept == "RESOLVED"
                   and not any(_inside(r, g) for g in hits if g.concept in CANCELLABLE)
                   and not any(n.start < r.start < t.scope_end(n.end, 3) for n in all_negators)]
    others = _someone_else(t, hits)
    chronic = {t.sentence_of[h.start] for h in hits if h.concept == "CHRONIC"}
    doubted = {t.sentence_of[h.start] for h in hits if h.concept == "DOUBT"}
    standing, lowered = [], []
    for hit in hits:
        if hit.concept in NEVER_NEGATED:
            standing.append(hit)
            continue
        if hit.concept in CANCELLABLE and hit.start in others:
            continue
        # A hedged "no" is not an all-clear ("no blister I think, not sure"): numb feet cannot
        # always tell, and any possible wound is a call to the doctor today.
        negated = t.negated(hit, negators) and t.sentence_of[hit.start] not in doubted
        if negated or any(t.same_clause(hit.start, r.start) for r in resolutions):
            lowered.append(hit)
            continue
        if hit.concept in NEEDS_BODY and (t.thing_beside(hit)
                                          or not t.near(hit, BODY_ANCHORS, BODY_REACH)):
            continue
        if hit.concept in CHRONIC_DROPS and t.sentence_of[hit.start] in chronic:
            continue
        standing.append(hit)
    return Reading(tuple(t.words), tuple(t.sentence_of), tuple(standing), tuple(lowered))
