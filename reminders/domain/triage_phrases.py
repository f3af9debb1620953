"""The word tables as phrases to find in a text, and the spelling corrections (for triage_read).

Pure, no I/O. Both languages' tables are compiled once, at import, into an index by first word
(or first letters, for a word ending in "*"). A word not in the tables is corrected before the
phrases are looked for: first by its Spanish sound ("yaga" is "llaga", "inchado" is
"hinchado"), then by edit distance (rapidfuzz) to the symptom words that start with the same
letter: 1 edit for words up to 7 letters, 2 from 8; real words close to a symptom word
("would", "sister") are never corrected.
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
# Misspellings are looked for only among the words of these concepts.
FUZZY = frozenset({
    "CHEST_PAIN", "BREATH", "WOUND", "CRACK", "BURN", "BLEED", "RED", "REDNESS", "SWELL",
    "INFECTION", "SMELL", "COLOR", "BLACK", "PALE", "NUMB", "TINGLE", "GANGRENE", "FEVER", "INJURY",
    "FOREIGN", "CRISIS", "DESPAIR", "LOW_MOOD", "SOAK", "HEAT_DEVICE", "BAREFOOT", "CORN",
    "BODY", "PAIN", "FORMS", "CALF", "HEAD", "SUGAR", "NAIL_OFF", "STREAKS", "SPREADING"})


@dataclass(frozen=True)
class Hit:
    concept: str
    start: int
    end: int  # exclusive


_TOKEN = re.compile(r"\d+(?:[.,]\d+)?|[a-z]+(?:'[a-z]+)*|[.;!?,/&]")

Part = tuple[str, str]  # ("w", word) | ("s", stem) | ("gap", "")


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


def hits_of(words: list[str]) -> list[Hit]:
    found = []
    for at, word in enumerate(words):
        for concept, parts in _EXACT.get(word, []) + _STEMS.get(word[:3], []):
            end = _match(words, at, parts)
            if end > at:
                found.append(Hit(concept, at, end))
    return found
