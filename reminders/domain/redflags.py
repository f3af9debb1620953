"""Foot problems in a person's own words: which red flag a text reports, if any.

Pure functions, no I/O. The people who text us often cannot feel a wound, so a report is read
generously: when in doubt we raise the flag (the cost is one safety reply and a call from the
clinic), and only a plain negation or a plain "it healed" next to the word lowers it ("no
blister", "the cut healed", "swelling is gone").

Categories (the `category` of a flag and the label of reminders_flags_total):
wound, redness, warmth, swelling, color, infection, injury, numbness.
"""

from __future__ import annotations

import re

CATEGORIES = ("wound", "redness", "warmth", "swelling", "color", "infection", "injury",
              "numbness")

# Words that report a problem on their own (a blister is a blister wherever it is).
_STRONG = {
    "wound": r"blisters?|blistered|blistering|wounds?|ulcers?|ulcerated|open sore|sores?|"
             r"cuts?|gash|scrape[sd]?|raw spot|broken skin|crack(?:ed|s)? (?:heel|skin)|"
             r"(?:won'?t|will not|doesn'?t|does not|not) heal(?:ing)?|"
             # Spanish (docs/languages.md): ampolla, herida, corte, llaga, úlcera, grieta...
             r"ampollas?|heridas?|cortes?|cortad[oa]|llagas?|[uú]lceras?|raspones?|raspad[oa]|"
             r"piel (?:abierta|rota)|grietas?|agrietad[oa]|no (?:sana|cicatriza|se cura)",
    "swelling": r"swollen|swelling|swells?|puffy|puffed(?: up)?|bloated|"
                r"hinchad[oa]s?|hinchaz[oó]n|inflamad[oa]s?|inflamaci[oó]n|se (?:me )?hinch[oó]",
    "infection": r"pus|oozing|oozes?|drainage|draining|discharge|leaking|weeping|infected|"
                 r"infection|smells?|smelly|stinks?|odou?r|"
                 r"supura\w*|infectad[oa]s?|infecci[oó]n|mal olor|huele mal|apesta",
    "injury": r"fell|fall(?:en)?|tripped|stubbed|twisted|sprained|broke|broken (?:toe|bone|"
              r"ankle|foot)|fracture[d]?|injur(?:y|ed|ies)|stepped on|hurt (?:my|it|the|his|her)|"
              r"me ca[ií]|ca[ií]das?|me golpe[eé]|tropec[eé]|me torc[ií]|torcedura|esguince|"
              r"fractura\w*|me lastim[eé]|pis[eé] (?:un|una|algo)",
}
# Words that report a foot problem only about a foot or leg ("it's hot today" is weather).
_NEEDS_BODY = {
    "redness": r"red|redness|reddish|pink and hot|roj[oa]s?|enrojecid[oa]s?|enrojecimiento|"
               r"rojiz[oa]s?",
    "warmth": r"hot|warm|warmer|burning hot|heat(?:ed)? up|calientes?|ardiente|con calor",
    "color": r"black|blue|purple|gr[ae]y|dark|darker|pale|white|discolou?red|bruised?|"
             r"negr[oa]s?|morad[oa]s?|azul(?:es)?|gris(?:es)?|p[aá]lid[oa]s?|oscur[oa]s?|"
             r"amoratad[oa]s?|moret[oó]n(?:es)?",
    "numbness": r"(?:sudden(?:ly)?|new|newly|more|worse|spreading)\s+(?:\w+\s+){0,2}numb\w*|"
                r"numb\w*\s+(?:\w+\s+){0,3}(?:sudden(?:ly)?|worse|spreading|new)|"
                r"can'?t feel (?:my|the) (?:foot|feet|leg|toes?)\s+(?:\w+\s+){0,2}"
                r"(?:anymore|suddenly|now)|"
                r"(?:entumecimiento|adormecimiento|hormigueo) nuevo|"
                r"nuevo (?:entumecimiento|adormecimiento|hormigueo)|"
                r"(?:de repente|de pronto)\s+(?:\w+\s+){0,2}(?:entumid|dormid|adormecid)\w*|"
                r"(?:entumid|dormid|adormecid)\w*\s+(?:\w+\s+){0,3}(?:de repente|de pronto)|"
                r"ya no siento (?:el|los|mi|mis) (?:pies?|dedos?|piernas?)",
}
_BODY = re.compile(r"\b(foot|feet|toes?|toenails?|nails?|heels?|soles?|ankles?|legs?|calf|"
                   r"calves|arch(?:es)?|skin|instep|shin|knee|"
                   r"pies?|dedos?|u[ñn]as?|tal[oó]n|talones|plantas?|tobillos?|piernas?|"
                   r"pantorrillas?|piel|empeine|rodillas?|arco)\b")
# A negation just before the word: "no blister", "not swollen", "without any redness".
_NEGATION_BEFORE = re.compile(
    r"\b(no|not|isn'?t|aren'?t|wasn'?t|without|never|none|zero|nothing|free of|"
    r"don'?t have|doesn'?t have|haven'?t got|no more|no longer|"
    r"sin|ning[uú]n\w*|nada de|no tengo|ya no|tampoco)\s+(?:\w+\s+){0,2}$")
# Resolved after the word: "the cut healed", "swelling is gone", "blister is better now".
_RESOLVED_AFTER = re.compile(
    r"^\s*(?:\w+\s+){0,3}(healed|is gone|has gone|went away|gone down|went down|cleared|"
    r"cleared up|is better|got better|is fine|all better|disappeared|"
    r"san[oó]|se cur[oó]|ya (?:se fue|pas[oó]|baj[oó])|desapareci[oó]|est[aá] mejor|"
    r"mejor[oó]|se quit[oó])\b")
# "not healed", "not better": the opposite of resolved.
_NOT_RESOLVED = re.compile(r"\b(not|isn'?t|hasn'?t|hasnt|never|no)\s+(?:\w+\s+){0,1}"
                           r"(healed|gone|better|cleared|fine)\b")
# Doubt counts as a report: "not sure if it's a blister" raises the flag.
_DOUBT = re.compile(r"\b(not sure|no idea|unsure|maybe|might be|could be|i think|"
                    r"no s[eé] si|no estoy segur[oa]|tal vez|quiz[aá]s?|creo que|puede ser)\b")
_NAIL_CUT = re.compile(r"\bcut(?:ting)? (?:my |the |your )?(?:toe)?nails?\b|"
                       r"\bcort(?:ar|[eé]|o)(?:me)? (?:las |mis )?u[ñn]as\b|\bcorte de u[ñn]as\b")
# Describing a thing, not the skin: "warm socks", "red slippers", "hot water".
_THING_AFTER = re.compile(r"^\s+(socks?|slippers?|shoes?|water|bath|blankets?|towels?|milk|tea|"
                          r"drinks?|shower|room|weather|day|night)\b")
# The same before the word, as Spanish puts it: "calcetines negros", "agua caliente".
_THING_BEFORE = re.compile(r"\b(calcetines|medias|zapatos|pantuflas|agua|toallas?|cobijas?|"
                           r"ba[ñn]o|ducha|caf[eé]|sopa|d[ií]a|clima|tiempo)\s+$")
# A colour, warmth or redness word counts when a foot or leg is named within this many words.
BODY_WINDOW_WORDS = 6


def _compile(table: dict[str, str]) -> dict[str, re.Pattern[str]]:
    return {category: re.compile(r"\b(?:" + words + r")\b") for category, words in table.items()}


_STRONG_RE = _compile(_STRONG)
_NEEDS_BODY_RE = _compile(_NEEDS_BODY)


def detect(clean: str) -> str | None:
    """The first red-flag category the (normalised, lower-case) text reports, or None."""
    text = _NAIL_CUT.sub(" nailcare ", clean.replace("\u2019", "'"))
    doubtful = bool(_DOUBT.search(text))
    for category in CATEGORIES:
        if _reported(text, _STRONG_RE.get(category), doubtful):
            return category
        if _reported(text, _NEEDS_BODY_RE.get(category), doubtful, near_body=True):
            return category
    return None


def _reported(text: str, pattern: re.Pattern[str] | None, doubtful: bool,
              near_body: bool = False) -> bool:
    """Whether some mention of `pattern` in `text` is not negated or resolved."""
    if pattern is None:
        return False
    for match in pattern.finditer(text):
        if near_body and not _about_the_body(text, match.start(), match.end()):
            continue
        if doubtful or not _lowered(text, match.start(), match.end()):
            return True
    return False


def _about_the_body(text: str, start: int, end: int) -> bool:
    if _THING_AFTER.match(text[end:]) or _THING_BEFORE.search(text[:start]):
        return False
    before = " ".join(text[:start].split()[-BODY_WINDOW_WORDS:])
    after = " ".join(text[end:].split()[:BODY_WINDOW_WORDS])
    return bool(_BODY.search(before) or _BODY.search(after))


def _lowered(text: str, start: int, end: int) -> bool:
    before, after = text[:start], text[end:]
    if _NEGATION_BEFORE.search(before):
        return True
    resolved = _RESOLVED_AFTER.match(after)
    if resolved is None:
        return False
    return not _NOT_RESOLVED.search(after[: resolved.end()])
