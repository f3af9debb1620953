"""The numbers and the turns of phrase the triage rules need beyond plain words.

Pure, no I/O. A blood sugar ("sugar is 45", "glucosa 2.8") or a temperature ("temp 101.5",
"38,5 de fiebre") becomes a concept of its sentence; despair words ("I give up", "no point")
count as a crisis only when they are about the person, not about a thing ("I give up on the
lotion", "no point doing the exercises").
"""

from __future__ import annotations

from reminders.domain.triage_read import HARD_BREAKS, SOFT_BREAKS, Reading

# mg/dL (US meters); a number with a decimal point under 30 is mmol/L.
VERY_LOW_MG, LOW_MG, HIGH_MG = 55, 70, 300
VERY_LOW_MMOL, LOW_MMOL = 3.0, 3.9
# A fever: 100.4 F or 38 C and up (oncology fever threshold).
FEVER_F, FEVER_C = 100.4, 38.0
TEMPERATURE_WORDS = frozenset({"temp", "temperature", "temperatura", "fever", "fiebre",
                               "thermometer", "termometro", "calentura", "f", "c"})
SUGAR_CONCEPTS = frozenset({"SUGAR", "LOW_SUGAR", "HIGH_SUGAR"})


def _number(word: str) -> float | None:
    try:
        return float(word.replace(",", "."))
    except ValueError:
        return None


def _sugar(value: float, decimal: bool) -> str | None:
    if decimal and value < 30:
        if value < VERY_LOW_MMOL:
            return "SUGAR_VERY_LOW"
        return "SUGAR_LOW" if value < LOW_MMOL else None
    if 10 <= value < VERY_LOW_MG:
        return "SUGAR_VERY_LOW"
    if VERY_LOW_MG <= value < LOW_MG:
        return "SUGAR_LOW"
    return "SUGAR_HIGH" if HIGH_MG <= value < 1000 else None


def add_numbers(reading: Reading, sentences: list[set[str]]) -> None:
    for index, concepts in enumerate(sentences):
        words = [w for w, s in zip(reading.words, reading.sentence_of, strict=True)
                 if s == index]
        numbers = [(v, "." in w or "," in w) for w in words
                   if w[0].isdigit() and (v := _number(w)) is not None]
        if not numbers:
            continue
        if concepts & SUGAR_CONCEPTS:
            for value, decimal in numbers:
                found = _sugar(value, decimal)
                if found:
                    concepts.add(found)
        if TEMPERATURE_WORDS & set(words) and any(
                FEVER_F <= v <= 108 or FEVER_C <= v <= 43 for v, _ in numbers):
            concepts.add("FEVER")


def despair_about_self(reading: Reading) -> bool | None:
    """True for a despair phrase that ends its clause, or goes on about life, everything,
    oneself; False for one about doing something ("no point doing the exercises": low mood);
    None when there is none, or it is about a thing ("I give up on the lotion")."""
    tails = {h.start for h in reading.standing if h.concept == "DESPAIR_TAIL"}
    things = [h for h in reading.standing if h.concept == "THING"]
    found: bool | None = None
    for hit in reading.standing:
        if hit.concept != "DESPAIR":
            continue
        if any(0 <= hit.start - t.end < 3 for t in things):
            continue  # "the lotion, no point": about the lotion
        after = hit.end
        if after >= len(reading.words) or reading.words[after] in HARD_BREAKS | SOFT_BREAKS:
            return True
        if after in tails:
            return True
        if reading.words[after] not in ("on", "con", "with", "of", "de"):
            found = False
    return found
