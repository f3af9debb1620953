"""The Spanish text commands (docs/text-commands.md): LISTO, HORA 9pm, PAUSA 3, ALTO ...

Pure functions, no I/O, read by keywords.parse on the normalised text with its accents folded
away (people type "espanol", "sí" and "si" alike). Returns a (kind, arg) pair of keywords.Kind
values, so that parse keeps building every Command; a text these do not recognise falls through
to the English commands.
"""

from __future__ import annotations

import re
import unicodedata

STOP_WORDS = frozenset({"alto", "parar", "para", "cancelar", "baja", "detener", "basta"})
HELP_WORDS = frozenset({"ayuda", "auxilio"})
# One word, the whole text (fillers aside): its Kind and argument.
_SINGLE: dict[str, tuple[str, str]] = {
    "listo": ("done", ""), "lista": ("done", ""), "hecho": ("done", ""),
    "termine": ("done", ""), "seguir": ("resume", ""), "continuar": ("resume", ""),
    "reanudar": ("resume", ""), "pausa": ("pause", ""), "pausar": ("pause", ""),
    "unirme": ("join", ""), "inicio": ("join", ""), "iniciar": ("join", ""),
    "empezar": ("join", ""), "comenzar": ("join", ""), "si": ("start", ""),
    "espanol": ("language", "es"), "ayuda": ("help", ""), "auxilio": ("help", ""),
}
# Words that may follow a one-word command without changing it ("listo por hoy").
_FILLER = frozenset({"por", "favor", "gracias", "hoy", "esta", "noche", "ya", "de", "nuevo",
                     "ok", "bueno", "pues", "todo"})
# ENGLISH / INGLES switch back to English; answered in English (the language asked for).
ENGLISH_WORDS = frozenset({"english", "ingles"})
_SWITCH = {"si": "on", "on": "on", "no": "off", "off": "off"}
_TOGGLES = {"masaje": "massage", "masajes": "massage", "calor": "heat", "semanal": "weekly",
            "cuidador": "care", "cuidadora": "care", "llamada": "voice", "llamadas": "voice"}
_WITH_ARGUMENT = (
    ("time", re.compile(r"^(?:cambiar la hora|cambiar hora|hora a las|hora)\s*:?\s*(\d.*)$")),
    ("tz", re.compile(r"^(?:zona horaria|huso horario|zona)(?:\s*:\s*|\s+)(.+)$")),
    ("email", re.compile(r"^(?:correo electronico|mi correo es|correo)(?:\s*:\s*|\s+)(.+)$")),
)
_PAUSE = re.compile(r"^pausa(?:r)?(?:(?:\s*:\s*|\s+)(?:por\s+)?(\d+)(?:\s+dias?|\s+noches?)?)?"
                    r"(?:\s+por favor|\s+gracias)?$")
_DONE = re.compile(r"^(?:ya )?(?:lo hice|termine|listo|hecho|todo listo|ya esta)"
                   r"(?: por hoy| por esta noche| hoy)?$")
_STOP_PHRASE = re.compile(
    r"^(?:por favor )?(?:"
    r"(?:ya )?no quiero (?:mas |recibir )?(?:los |sus |estos )?(?:mensajes|textos|recordatorios)"
    r"(?: mas)?|no (?:me )?(?:envien|manden|escriban|mande|envie) mas(?: mensajes| textos)?|"
    r"dejen de (?:enviarme|mandarme|escribirme)(?: mensajes| textos)?|"
    r"(?:quiero )?darme de baja|(?:quiero )?cancelar (?:los |mis )?(?:mensajes|textos)|"
    r"(?:sacarme|quitenme|saquenme|borrenme) de (?:la|esta) lista"
    r")(?: por favor| gracias)*$")


# A 0-10 score in Spanish: "dolor 8", "8 de 10", "mi dolor es 7, me arde".
_SCORE = re.compile(r"^(?:(?:mi )?(?:dolor|nivel|puntaje)\s*(?:es|de|=|:)?\s*)?(\d{1,2})"
                    r"(?:\s*(?:/|de)\s*10)?(?:[\s,.;:-]+(.*))?$")
_PAIN_WORDS = re.compile(r"\b(dolor|duele|me duele|ardor|arde|hormigueo|mal|fatal|terrible|"
                         r"horrible|insoportable|peor|hoy|esta noche|otra vez|"
                         r"no puedo (?:caminar|dormir|pararme))\b")
# A high score with these words points to urgent care (keywords.URGENT_PAIN, English).
URGENT_PAIN = r"insoportable|el peor|no aguanto|emergencia|no puedo (?:caminar|pararme)"


def fold(clean: str) -> str:
    """Accents off ("español" -> "espanol", "sí" -> "si"): Spanish typed on an English
    keyboard is the same Spanish."""
    return "".join(c for c in unicodedata.normalize("NFD", clean) if not unicodedata.combining(c))


# After a stop word, these make it about tonight, not a request to stop for good: "para esta
# noche" is "for tonight" (para the preposition), "baja hoy" is "low today" (a sugar, a pain),
# and even read as "stop tonight" it asks for one evening off, as "stop tonight" in English
# does not opt out either. Such a text gets the not-understood answer, which names ALTO and
# PAUSA: the person who meant to stop learns the word; nobody loses their reminders by a guess.
_TONIGHT = frozenset({"hoy", "esta", "noche", "manana"})
_STOP_FILLER = _FILLER - _TONIGHT


def is_stop(folded: str, words: list[str]) -> bool:
    """ALTO, "baja por favor", "ya no quiero mensajes" (the words are fold()ed too); not
    "para esta noche" or "baja hoy" (_TONIGHT)."""
    if words and words[0] in STOP_WORDS and all(w in _STOP_FILLER or w in STOP_WORDS
                                                 or w in ("mensajes", "textos", "los")
                                                 for w in words[1:]):
        return True
    return bool(_STOP_PHRASE.match(folded))


def command(folded: str, words: list[str]) -> tuple[str, str, str] | None:
    """(kind, arg, language) of a Spanish command, or None."""
    if not words:
        return None
    if words[0] in ENGLISH_WORDS and all(w in _FILLER or w == "please" for w in words[1:]):
        return ("language", "en", "en")
    first, rest = words[0], words[1:]
    if first in _SINGLE and all(w in _FILLER for w in rest):
        kind, arg = _SINGLE[first]
        return (kind, arg, "es")
    if len(words) == 2 and first in _TOGGLES and words[1] in _SWITCH:
        return (_TOGGLES[first], _SWITCH[words[1]], "es")
    if len(words) == 2 and first == "sin" and words[1] in ("masaje", "masajes", "calor"):
        return (_TOGGLES[words[1]], "off", "es")
    if _DONE.match(folded):
        return ("done", "", "es")
    for kind, pattern in _WITH_ARGUMENT:
        match = pattern.match(folded)
        if match:
            return (kind, match.group(1).strip(), "es")
    match = _PAUSE.match(folded)
    if match:
        return ("pause", match.group(1) or "", "es")
    return _score(folded)


def _score(folded: str) -> tuple[str, str, str] | None:
    match = _SCORE.match(folded)
    if not match or not 0 <= int(match.group(1)) <= 10:
        return None
    rest = match.group(2) or ""
    if not (match.group(0).startswith(("dolor", "mi dolor", "nivel", "puntaje"))
            or " de 10" in folded or _PAIN_WORDS.search(rest)):
        return None  # a bare "8" is the English parser's; "10 vueltas" is not a score
    if rest and not _PAIN_WORDS.search(rest):
        return None
    return ("score", str(int(match.group(1))), "es")
