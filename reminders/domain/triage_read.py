"""Reading a text for the triage: words, the concepts they name, and which of those still stand.

Pure, no I/O. The steps, in order: fold (lower case, accents off, apostrophes gone), cut into
words and sentences, correct misspelt words (Spanish sounds first: "yaga" is "llaga", then
edit distance with rapidfuzz), find the phrases of the word tables (both languages, always:
people mix them), then set aside what does not stand: words inside a harmless phrase ("fell
asleep"), words negated in their own phrase ("no blisters", "ni hinchado"), words resolved in
their own clause ("the cut healed", "ya se me quitó lo rojo"), colour and warmth words not about
a body part ("hot water", "the red one"), and sensations said to be as usual ("burning like
always"). What is left is a set of concepts per sentence, for the rules in triage.py.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from reminders.domain import triage_words_en, triage_words_es

# Twilio delivers at most 1,600 characters; anything past that is not read (a 10 kB text
# costs the same as a long SMS).
MAX_CHARS = 1600
GAP_WORDS = 3  # what "..." in a phrase may skip
NEGATION_REACH = 6  # words after "no" / "not" that it can still negate
CLAUSE_REACH = 6  # words between a finding and "healed" / "se quitó"
BODY_REACH = 6  # words between "red" / "hot" and the foot it must be about
HARD_BREAKS = frozenset({".", ";", "!", "?"})
SOFT_BREAKS = frozenset({",", "and", "y", "&", "/"})

# Concepts a harmless phrase ("hot water", "sore muscles") cancels when it contains them.
CANCELLABLE = frozenset({
    "WOUND", "WOUND_BODY", "CRACK", "BURN", "BLEED", "RED", "HOT", "SWELL", "INFECTION",
    "SMELL", "COLOR", "BLACK", "PALE", "COLD", "FALL", "INJURY", "FOREIGN", "PAIN", "STRONG",
    "HEAD", "HEAD_HIT", "SUGAR", "LOW_SUGAR", "FEVER", "NEW", "SUDDEN", "CALF_SIGN", "BODY",
    "STROKE", "CHEST_PAIN", "SPREADING", "NAIL_OFF"})
# Concepts negation and resolution never lower: they carry their own negations ("I don't want
# to live") or are not findings at all.
NEVER_NEGATED = frozenset({
    "CRISIS", "DESPAIR", "LOOSE_DISTRESS", "NEGATOR", "DOUBT", "BREAK", "THING", "BODY",
    "QUESTION", "CHRONIC", "RESOLVED", "GOOD", "DONE", "NOT_FINDING", "DESPAIR_TAIL", "HAND",
    "CHEMO", "FORMS", "COMMON_WORDS", "CALF", "HEAD", "SUGAR"})
# Only about a body part: "my heel is red", never "the red one" or "hot water".
NEEDS_BODY = frozenset({"RED", "HOT", "COLOR", "BLACK", "PALE", "COLD", "WOUND_BODY"})
BODY_ANCHORS = frozenset({"BODY", "WOUND", "SWELL", "INFECTION", "CALF", "CRACK", "HAND"})
# As usual ("burning like always") is a chronic symptom, not a new one.
CHRONIC_DROPS = frozenset({"HOT", "NEW", "SUDDEN", "STRONG", "WORSE", "CANT_FEEL"})
# Misspellings are looked for only among the words of these concepts.
FUZZY = frozenset({
    "CHEST_PAIN", "BREATH", "WOUND", "CRACK", "BURN", "BLEED", "RED", "SWELL", "INFECTION",
    "SMELL", "COLOR", "BLACK", "PALE", "NUMB", "TINGLE", "GANGRENE", "FEVER", "INJURY",
    "FOREIGN", "CRISIS", "DESPAIR", "LOW_MOOD", "SOAK", "HEAT_DEVICE", "BAREFOOT", "CORN",
    "BODY", "PAIN", "FORMS", "CALF", "HEAD", "SUGAR", "NAIL_OFF", "STREAKS", "SPREADING"})

_TOKEN = re.compile(r"\d+(?:[.,]\d+)?|[a-z]+(?:'[a-z]+)*|[.;!?,/&]")

Part = tuple[str, str]  # ("w", word) | ("s", stem) | ("gap", "")


@dataclass(frozen=True)
class Hit:
    concept: str
    start: int
    end: int  # exclusive


@dataclass(frozen=True)
class Reading:
    words: tuple[str, ...]
    sentence_of: tuple[int, ...]  # the sentence of each word
    standing: tuple[Hit, ...]  # hits still standing, after negation, resolution, body checks
    lowered: tuple[Hit, ...]  # findings that were negated or resolved ("no blisters")


def fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text[:MAX_CHARS].lower().replace("\u2019", "'"))
    return "".join(c for c in text if not unicodedata.combining(c))


def tokens(text: str) -> list[str]:
    return [t.replace("'", "") for t in _TOKEN.findall(fold(text))]


def _compile() -> tuple[dict[str, list[tuple[str, tuple[Part, ...]]]],
                        dict[str, list[tuple[str, tuple[Part, ...]]]], set[str], list[str]]:
    exact: dict[str, list[tuple[str, tuple[Part, ...]]]] = defaultdict(list)
    stems: dict[str, list[tuple[str, tuple[Part, ...]]]] = defaultdict(list)
    vocab: set[str] = set()
    fuzzy: list[str] = []
    for table in (triage_words_en.CONCEPTS, triage_words_es.CONCEPTS):
        for concept, phrases in table.items():
            for phrase in phrases:
                parts: list[Part] = []
                for piece in phrase.split():
                    if piece == "...":
                        parts.append(("gap", ""))
                        continue
                    star = piece.endswith("*")
                    words = tokens(piece.rstrip("*"))
                    parts.extend(("w", w) for w in words[:-1])
                    parts.append(("s" if star else "w", words[-1]))
                for kind, word in parts:
                    if kind != "gap":
                        vocab.add(word)
                        if concept in FUZZY and len(word) >= 5 and word.isalpha():
                            fuzzy.append(word)
                first_kind, first = parts[0]
                if first_kind == "s":
                    stems[first[:3]].append((concept, tuple(parts)))
                else:
                    exact[first].append((concept, tuple(parts)))
    return exact, stems, vocab, sorted(set(fuzzy))


_EXACT, _STEMS, _VOCAB, _FUZZY_WORDS = _compile()
_COMMON = frozenset(triage_words_en.CONCEPTS["COMMON_WORDS"]
                    + triage_words_es.CONCEPTS["COMMON_WORDS"])


def _sounds(word: str) -> str:
    """A Spanish-sound key: ll/y, silent h, b/v, s/z/c, doubled letters ("ampoya", "inchado")."""
    word = word.replace("ll", "y").replace("v", "b").replace("z", "s").replace("h", "")
    word = re.sub(r"c([ei])", r"s\1", word)
    return re.sub(r"(.)\1", r"\1", word)


_BY_SOUND = {_sounds(w): w for w in sorted(_VOCAB, key=len) if len(w) >= 4 and w.isalpha()}
_FUZZY_BY_LETTER: dict[str, list[str]] = defaultdict(list)
for _word in _FUZZY_WORDS:
    _FUZZY_BY_LETTER[_word[0]].append(_word)


@lru_cache(maxsize=8192)
def correct(word: str) -> str:
    """The table word a misspelt word stands for ("blistr" -> "blister"), else the word."""
    if word in _VOCAB or len(word) < 4 or not word.isalpha() or word in _COMMON:
        return word
    by_sound = _BY_SOUND.get(_sounds(word))
    if by_sound is not None:
        return by_sound
    if len(word) < 5:
        return word
    cutoff = 1 if len(word) < 8 else 2
    found = process.extractOne(word, _FUZZY_BY_LETTER.get(word[0], []),
                               scorer=Levenshtein.distance, score_cutoff=cutoff)
    return word if found is None else str(found[0])


def _match(words: list[str], at: int, parts: tuple[Part, ...]) -> int:
    """Where the phrase ends when it starts at `at` (exclusive), or -1."""
    if not parts:
        return at
    kind, word = parts[0]
    if kind == "gap":
        for skip in range(GAP_WORDS + 1):
            if skip and (at + skip > len(words) or not words[at + skip - 1][0].isalnum()):
                break
            end = _match(words, at + skip, parts[1:])
            if end >= 0:
                return end
        return -1
    if at >= len(words):
        return -1
    here = words[at]
    if here == word or (kind == "s" and here.startswith(word)):
        return _match(words, at + 1, parts[1:])
    return -1


def _hits(words: list[str]) -> list[Hit]:
    found = []
    for at, word in enumerate(words):
        for concept, parts in _EXACT.get(word, []) + _STEMS.get(word[:3], []):
            end = _match(words, at, parts)
            if end > at:
                found.append(Hit(concept, at, end))
    return found


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
        self.hits = _hits(words)
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
                   and not any(0 <= r.start - n.end < 3 and t.sentence_of[n.start]
                               == t.sentence_of[r.start] for n in all_negators)]
    chronic = {t.sentence_of[h.start] for h in hits if h.concept == "CHRONIC"}
    standing, lowered = [], []
    for hit in hits:
        if hit.concept in NEVER_NEGATED:
            standing.append(hit)
            continue
        if t.negated(hit, negators) or any(t.same_clause(hit.start, r.start)
                                           for r in resolutions):
            lowered.append(hit)
            continue
        if hit.concept in NEEDS_BODY and (t.thing_beside(hit)
                                          or not t.near(hit, BODY_ANCHORS, BODY_REACH)):
            continue
        if hit.concept in CHRONIC_DROPS and t.sentence_of[hit.start] in chronic:
            continue
        standing.append(hit)
    return Reading(tuple(t.words), tuple(t.sentence_of), tuple(standing), tuple(lowered))
