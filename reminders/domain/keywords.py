"""What a person meant by a text: a keyword, a command with its argument, a score, or nothing.

Pure functions, no I/O; case, spacing, punctuation and emoji do not matter. A text that plainly
asks to stop is a STOP whatever else it says ("STOP texting me", "ALTO, no tiene sentido"); one
that merely contains the word ("can't stop the tingling") is not, nor is despair ("end it
all"). Anything unsure is UNKNOWN, never an action not asked for: the body is triage's to read.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from reminders.domain import frequency, keywords_es, temperature
from reminders.domain.triage import Level, triage

# Only the start (after leading spaces) is read: a 10 kB text is not a command.
MAX_READ = 200

STOP_WORDS = frozenset({"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "optout",
                        "revoke"})
# Twilio's own keyword handling is English-only: these we always answer ourselves, in Spanish.
SPANISH_STOP_WORDS = keywords_es.STOP_WORDS
START_WORDS = frozenset({"start", "yes", "unstop"})
HELP_WORDS = frozenset({"help", "info"})
# A plea for help is answered with HELP (the support contact, and 911 for an emergency).
HELP_PHRASES = frozenset({"help me", "help me please", "please help", "please help me",
                          "help please", "i need help", "need help", "can you help me",
                          "can you help", "help pls", "help plz", "ayudame", "ayudeme",
                          "necesito ayuda", "ayuda por favor", "ayudenme"})
# STOP_WORDS, START_WORDS and HELP_WORDS are also exactly the keywords of Twilio's own handling
# (Advanced Opt-Out's defaults), which answers only a message that is one of them, whole (case
# and surrounding spaces aside): "stop please" reaches only us.
TWILIO_KEYWORDS = STOP_WORDS | START_WORDS | HELP_WORDS
# Commands that switch a contraindication of the person's own: MASSAGE OFF, HEAT ON ...
TOGGLES = ("massage", "heat")

# Words that may surround a stop keyword without changing its meaning.
_FILLER = frozenset({
    "please", "pls", "plz", "now", "me", "all", "it", "this", "that", "these", "texts", "text",
    "messages", "message", "msgs", "sms", "reminders", "reminder", "thanks", "thank", "you",
    "thx", "ty", "the", "my", "subscription", "right", "away", "ok", "okay", "just", "from",
    "list", "them", "for", "good", "sending", "texting", "messaging", "to", "y", "u", "us",
    # Spanish politeness around ALTO / BAJA ("baja por favor", "alto, gracias")
    "por", "favor", "gracias", "ya", "los", "mensajes", "textos",
})
_BEFORE_STOP = frozenset({"please", "pls", "plz", "just", "ok", "okay", "now", "thanks", "thx",
                          "ty"})
_STOP_PHRASES = (
    r"no more (texts?|messages?|msgs?|reminders?|sms)",
    r"(stop|quit|end) (texting|messaging|sending|contacting)( me)?",
    r"(do not|don't|dont|never) (text|message|contact|sms) me( again| anymore| any more)?",
    r"(i )?(do not|don't|dont) want( these| this| your| the| any| any more)? "
    r"(texts?|messages?|reminders?|sms)( anymore| any more)?",
    r"(take|remove|delete) me (off|from)( (this|the|your) (list|program|service))?",
    r"(remove|delete|unsubscribe) me",
    r"opt me out|opt out|i want to (stop|opt out|unsubscribe)|i (wish|would like) to (stop|"
    r"unsubscribe|opt out)",
    r"leave me alone",
)
# One-word spellings people use for the same keyword.
_SPELLINGS = {"opt-out": "optout", "un-subscribe": "unsubscribe", "stop-all": "stopall",
              "opt-in": "start", "optin": "start"}
# Politeness around a phrase does not change it ("please don't text me anymore, thank you").
_POLITE = r"(?:please |pls |plz )?"
_THANKS = r"(?: please| pls| now| thanks| thank you| thx| ty)*"
_STOP_PHRASE = re.compile(r"^" + _POLITE + r"(?:" + "|".join(_STOP_PHRASES) + r")" + _THANKS + "$")


class Kind(StrEnum):
    """What a text asks for (a StrEnum: compares equal to its string, as logs and metrics use)."""

    STOP = "stop"
    START = "start"
    JOIN = "join"
    HELP = "help"
    TIME = "time"
    TZ = "tz"
    PAUSE = "pause"
    RESUME = "resume"
    DONE = "done"
    SCORE = "score"
    EMAIL = "email"
    MASSAGE = "massage"
    HEAT = "heat"
    WEEKLY = "weekly"  # WEEKLY OFF / WEEKLY ON: the weekly progress text
    CARE = "care"  # CARE YES / CARE OFF: the person's consent to their caregiver's texts
    LANGUAGE = "language"  # ESPAÑOL / ENGLISH: the language of everything we send them
    FREQUENCY = "frequency"  # LESS / MORE (MENOS / MAS): the lighter schedule, or daily
    TEMP = "temp"  # TEMP 88 92: foot skin temperatures, left and right (domain/temperature.py)
    VOICE = "voice"  # VOICE ON / VOICE OFF (LLAMADA SI / NO): the evening call
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Command:
    """kind: one of Kind; `arg`: the raw argument (a time, zone, days, score, address...)."""

    kind: Kind
    arg: str = ""
    words: str = ""  # the person's own words (trimmed), for the consent log
    language: str = "en"  # the language the person used (Spanish keywords: "es")
    # The whole text is one of Twilio's own keywords: with OPT_OUT_HANDLED_BY=twilio, Twilio
    # has already answered it.
    provider_keyword: bool = False


def normalise(text: str) -> str:
    """Lower case, emoji and symbols gone, spaces collapsed, trailing punctuation dropped."""
    text = unicodedata.normalize("NFKC", text.lstrip()[:MAX_READ])
    kept = []
    for ch in text:
        category = unicodedata.category(ch)
        if category[0] in "LN" or ch in " :/@.+-_'\u2019,!?":
            kept.append(ch)
        elif category == "Pd" or ch == "\u2212":
            kept.append("-")  # en dash, em dash, minus: "-1" must stay negative, not become 1
        elif category[0] in "ZC":
            kept.append(" ")
        # symbols (emoji, arrows, dingbats) and the rest are dropped
    cleaned = "".join(kept).replace("\u2019", "'").lower()
    cleaned = " ".join(cleaned.split())
    # A leading dash is kept: it is a sign ("-1"), and a sign makes a score out of range.
    return cleaned.lstrip(" .,!?;:'").rstrip(" .,!?;:-'")


def parse(text: str) -> Command:
    text = (text or "").lstrip()
    words_raw = " ".join(text[:MAX_READ].split())[:160]
    clean = normalise(text)
    if not clean:
        return Command(Kind.UNKNOWN, words=words_raw)
    folded = keywords_es.fold(clean)
    stop_language = _stop(folded)
    if stop_language:
        # A plain request to stop wins over everything else in the message.
        return Command(Kind.STOP, words=words_raw, language=stop_language,
                       provider_keyword=is_twilio_keyword(text))
    folded_words = _words(folded)
    if " ".join(folded_words) in HELP_PHRASES:
        spanish = folded_words[0].startswith(("ayud", "necesito"))
        return Command(Kind.HELP, words=words_raw, language="es" if spanish else "en")
    command = (_keyword(clean) or _others(folded, folded_words) or _with_argument(clean)
               or _score(clean))
    if command is None:
        return Command(Kind.UNKNOWN, words=words_raw)
    return Command(command.kind, command.arg, words_raw, language=command.language,
                   provider_keyword=is_twilio_keyword(text))


_CLAUSE = re.compile(r"\s*[,.;:!?]+\s*|\s+-+\s+")


def _stop(folded: str) -> str:
    """"en" or "es" when the text asks to stop, else "": the whole text, any clause that is a
    plain stop phrase ("..., stop texting me"), or a first clause that is a stop keyword
    ("ALTO, no tiene sentido"), unless that keyword is part of despair ("end it all")."""
    clauses = [c for c in _CLAUSE.split(folded) if c]
    for index, clause in enumerate([folded, *clauses]):
        words = _words(clause)
        if not words:
            continue
        spanish = keywords_es.is_stop(clause, words)
        if index > 1 and not (spanish or _STOP_PHRASE.match(" ".join(words))):
            continue  # a later clause must be a whole stop phrase, not a lone "end"
        if (spanish or _is_stop(words)) and triage(clause).level != Level.CRISIS:
            return "es" if spanish or words[0] in SPANISH_STOP_WORDS else "en"
    return ""


def is_twilio_keyword(text: str) -> bool:
    """Whether Twilio's own keyword handling acts on this text (it reads the whole body)."""
    return text.strip().lower() in TWILIO_KEYWORDS


def _words(clean: str) -> list[str]:
    """Words without the punctuation around them ("Stop. Please." -> stop, please)."""
    tokens = re.split(r"[\s,!?;]+", clean)
    words = [token.strip(".:'-") for token in tokens]
    return [_SPELLINGS.get(w, w) for w in words if w]


def _keyword(clean: str) -> Command | None:
    words = _words(clean)
    if not words:
        return None
    toggle = _toggle(words) or _weekly_or_care(words)
    if toggle:
        return toggle
    if len(words) == 1:
        single = {**dict.fromkeys(START_WORDS, "start"), **dict.fromkeys(HELP_WORDS, "help"),
                  "join": "join", "resume": "resume", "done": "done", "pause": "pause"}
        if words[0] in single:
            return Command(Kind(single[words[0]]))
    return _done_or_resume(words)


def _others(folded: str, words: list[str]) -> Command | None:
    """TEMP (domain/temperature.py), LESS / MORE (domain/frequency.py), the Spanish commands."""
    found = (("temp", folded, "en") if temperature.is_temp(folded)
             else frequency.read_command(words) or keywords_es.command(folded, words))
    return None if found is None else Command(Kind(found[0]), found[1], language=found[2])


def _toggle(words: list[str]) -> Command | None:
    """MASSAGE OFF / MASSAGE ON / HEAT OFF / HEAT ON (also "no massage", "massage: off")."""
    if len(words) == 2 and words[0] in TOGGLES and words[1] in ("on", "off"):
        return Command(Kind(words[0]), words[1])
    if len(words) == 2 and words[0] == "no" and words[1] in TOGGLES:
        return Command(Kind(words[1]), "off")
    return None


# CARE YES / CARE OFF (the person) and WEEKLY ON / WEEKLY OFF: the argument is "on" or "off".
_SWITCH = {"on": "on", "yes": "on", "off": "off", "no": "off", "stop": "off", "end": "off"}
# WEEKLY, CARE and VOICE (CALLS) ON / OFF: the evening call is a channel the person chooses.
_SWITCHED = {"weekly": "weekly", "care": "care", "voice": "voice", "call": "voice",
             "calls": "voice"}


def _weekly_or_care(words: list[str]) -> Command | None:
    if len(words) == 2 and words[0] in _SWITCHED and words[1] in _SWITCH:
        return Command(Kind(_SWITCHED[words[0]]), _SWITCH[words[1]])
    return None


def _is_stop(words: list[str]) -> bool:
    if not words:
        return False
    first = words[0]
    stop_words = STOP_WORDS | SPANISH_STOP_WORDS
    # Fillers and repeated stop words ("STOP STOP STOP") add nothing to the request.
    rest = [w for w in words[1:] if w not in _FILLER and w not in stop_words]
    if first in stop_words and not rest:
        return True
    if words[:2] == ["opt", "out"] and all(w in _FILLER for w in words[2:]):
        return True  # "opt out from this list"
    if _STOP_PHRASE.match(" ".join(words)):
        return True
    # Before the keyword only politeness: "please stop" is a request, "all good from my end" or
    # "the end" is not, though every word in them is a filler.
    return words[-1] in STOP_WORDS and all(w in _BEFORE_STOP for w in words[:-1])


def _done_or_resume(words: list[str]) -> Command | None:
    if words[:2] == ["all", "done"]:
        words = words[1:]  # "All done!" is the commonest way to say DONE
    if words[0] in ("done", "resume") and all(w in _FILLER or w in ("for", "tonight", "today")
                                              for w in words[1:]):
        return Command(Kind(words[0]))
    return None


# An argument must look like one: "time to go to bed" is talk, not a badly written TIME.
_TIME = re.compile(r"^(?:time|set time|change time|set time to|change time to|time to)"
                   r"\s*:?\s*(\d.*)$")
# A separator after the keyword, so that "tzatziki" or "emails are annoying" are not commands.
_TZ = re.compile(r"^(?:tz|timezone|time zone)(?:\s*:\s*|\s+)(.+)$")
_PAUSE = re.compile(r"^pause(?:(?:\s*:\s*|\s+)(?:for\s+)?(\d+)(?:\s+days?|\s+nights?)?)?"
                    r"(?:\s+please|\s+pls|\s+thanks)?$")
_EMAIL = re.compile(r"^e-?mail(?:\s*:\s*|\s+)(.+)$")


def _with_argument(clean: str) -> Command | None:
    for kind, pattern in (("tz", _TZ), ("time", _TIME), ("email", _EMAIL)):
        match = pattern.match(clean)
        if match:
            return Command(Kind(kind), match.group(1).strip())
    match = _PAUSE.match(clean)
    if match:
        return Command(Kind.PAUSE, match.group(1) or "")
    return None


_SCORE = re.compile(
    r"^(?:(?:pain|score|symptoms?|tonight|level)\s*(?:is|was|=|:)?\s*)?"
    r"(\d{1,2})(?:\s*(?:/|out of|of)\s*10)?(?:[\s,.;:-]+(.*))?$"
)
# Words after a score that keep it a score ("8 tonight, bad"); anything else ("10 ankle
# circles done") is not a score.
_PAIN_WORDS = re.compile(r"\b(pain|hurts?|hurting|aches?|aching|burning|tingling|bad|awful|"
                         r"terrible|unbearable|worst|agony|excruciating|tonight|today|again|"
                         r"can'?t (?:walk|stand|sleep)|emergency)\b")
# A high score with these words points to urgent care, not only to the care team.
URGENT_PAIN = re.compile(r"\b(unbearable|worst|agony|excruciating|emergency|screaming|"
                         r"can'?t (?:walk|stand|bear)|cannot (?:walk|stand|bear)|"
                         + keywords_es.URGENT_PAIN + r")\b")


def _score(clean: str) -> Command | None:
    match = _SCORE.match(clean)
    if not match or not 0 <= int(match.group(1)) <= 10:
        return None
    rest = match.group(2) or ""
    if rest and not _PAIN_WORDS.search(rest):
        return None
    return Command(Kind.SCORE, str(int(match.group(1))))
