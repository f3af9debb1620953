"""How often a person gets the full routine: `daily`, or `lighter` (LESS / MENOS), and when the
habit offer (a text offering the lighter schedule) is due.

Pure date rules, no I/O. On the lighter schedule the foot check still comes every evening
(IWGDF 2023: examine the feet daily); the routine, the tip and the safety note come only on the
person's chosen weekdays (default Monday, Wednesday, Friday). The weekday is the person's local
date, the same date the schedule (domain/schedule.py) gives each evening, so a DST change
neither adds nor drops a routine evening.

Habits take a median of 66 days to form (Lally 2010): the offer comes on the 66th evening since
the person started, then every 90 evenings, to people on the daily schedule only.
"""

from __future__ import annotations

from datetime import date

DAILY = "daily"
LIGHTER = "lighter"
FREQUENCIES = (DAILY, LIGHTER)
# Monday = 0 ... Sunday = 6 (date.weekday()); Mon/Wed/Fri.
DEFAULT_DAYS: tuple[int, ...] = (0, 2, 4)
# The issue: the full routine "3 evenings a week"; one to six keeps it lighter than daily.
MIN_DAYS, MAX_DAYS = 1, 6
HABIT_FIRST_EVENING = 66
HABIT_EVERY = 90

# Day names people and operators write, English and Spanish (accents folded), to weekday.
_DAY_NAMES: dict[str, int] = {}
for _index, _names in enumerate((
        ("mon", "monday", "mo", "lun", "lunes", "lu"),
        ("tue", "tues", "tuesday", "tu", "mar", "martes", "ma"),
        ("wed", "weds", "wednesday", "we", "mie", "miercoles", "mi", "mier"),
        ("thu", "thur", "thurs", "thursday", "th", "jue", "jueves", "ju"),
        ("fri", "friday", "fr", "vie", "viernes", "vi"),
        ("sat", "saturday", "sa", "sab", "sabado"),
        ("sun", "sunday", "su", "dom", "domingo", "do"))):
    for _name in _names:
        _DAY_NAMES[_name] = _index
DAY_CODES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class DaysError(ValueError):
    """Not a set of weekdays we can use (unknown name, none, or all seven)."""


def parse_days(text: str) -> tuple[int, ...]:
    """"mon,wed,fri" / "lun mie vie" / "tue thu sat" -> sorted weekday numbers.

    All seven is daily, not lighter, and none is no routine at all: both are refused."""
    words = [w for w in text.lower().replace(",", " ").replace("/", " ").split() if w]
    if not words:
        raise DaysError("no days given")
    days = set()
    for word in words:
        if word.rstrip(".") not in _DAY_NAMES:
            raise DaysError(f"not a day of the week: {word!r}")
        days.add(_DAY_NAMES[word.rstrip(".")])
    if not MIN_DAYS <= len(days) <= MAX_DAYS:
        raise DaysError(f"choose {MIN_DAYS} to {MAX_DAYS} days (all seven is daily)")
    return tuple(sorted(days))


def is_day(word: str) -> bool:
    return word.rstrip(".") in _DAY_NAMES


def days_code(days: tuple[int, ...]) -> str:
    """(0, 2, 4) -> "mon,wed,fri" (the form `show --json` and `set routine_days=` use)."""
    return ",".join(DAY_CODES[d] for d in days)


def full_routine_on(frequency: str, days: tuple[int, ...], local_date: date) -> bool:
    """Whether tonight's text carries the routine, tip and safety note (else the foot check
    alone). Daily: every evening."""
    if frequency != LIGHTER:
        return True
    return local_date.weekday() in (days or DEFAULT_DAYS)


def evening_number(started: date, local_date: date) -> int:
    """The person's evening count: their first local evening is 1."""
    return (local_date - started).days + 1


def habit_offer_due(frequency: str, started: date | None, local_date: date) -> bool:
    """The 66th evening since the person started, then every 90 evenings (156th, 246th, ...):
    one text offers the lighter schedule. Only to people on the daily schedule; no answer
    keeps what they have."""
    if frequency != DAILY or started is None:
        return False
    n = evening_number(started, local_date)
    return n >= HABIT_FIRST_EVENING and (n - HABIT_FIRST_EVENING) % HABIT_EVERY == 0


# LESS / MORE and the ways people say them; LESS may name the routine's days ("LESS TUE THU").
_LESS = frozenset({"less", "fewer", "lighter", "les", "lesss", "menos"})
_MORE = frozenset({"more", "daily", "nightly", "mas", "moar", "diario", "diaria"})
_SPANISH = frozenset({"menos", "mas", "diario", "diaria"})
_FILLER = frozenset({"please", "pls", "plz", "often", "texts", "text", "messages", "thanks",
                     "thank", "you", "mensajes", "textos", "por", "favor", "gracias", "seguido",
                     "frecuente", "every", "night", "again"})


def read_command(words: list[str]) -> tuple[str, str, str] | None:
    """("frequency", "less [days]" | "more", language) for LESS [days] / MORE, MENOS [dias] /
    MAS (the whole text, politeness aside; accents folded), else None: "less pain" is not."""
    if not words or words[0] not in _LESS | _MORE:
        return None
    rest = [w for w in words[1:] if w not in _FILLER]
    language = "es" if words[0] in _SPANISH else "en"
    if words[0] in _MORE:
        return None if rest else ("frequency", "more", language)
    if rest and not all(is_day(w) for w in rest):
        return None
    return ("frequency", " ".join(["less", *rest]), language)
