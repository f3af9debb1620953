"""Instructions, not stems: every wording that can be texted states each instruction its item must.

An independent checker. It reads the two libraries with tomllib (not load_library), keeps its own
phrase list per instruction and language below (written from foot-care-guidance.md and the
clinical review, not from the selection code), and counts SMS segments with its own counter
(GSM 03.38: the basic table, the extension table at two septets, 160/153; UCS-2 70/67), not the
product's count_segments. Then it renders every nightly text of a year for every profile
(cause x massage x heat x open flag x language x name length) and reads what would be sent.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections import Counter
from datetime import date, time
from itertools import product
from typing import Any

import pytest

from reminders.domain.channels import parse_set
from reminders.domain.subscriber import Subscriber
from reminders.messages.render import Renderer
from reminders.settings import PROJECT_ROOT
from tests import sweep

TEMPLATES = PROJECT_ROOT / "templates"
SECTIONS = ("check", "routine", "tip", "safety")
LIBRARIES = {language: tomllib.loads((TEMPLATES / "content" / name).read_text(encoding="utf-8"))
             for language, name in (("en", "library.toml"), ("es", "library.es.toml"))}
YEAR = sweep.year()  # every evening of 2027 (every 5th under make check)
SMS_MAX_SEGMENTS = 2


def plain(text: str) -> str:
    """Lower case, accents off: what a GSM-7 phone shows of á í ó ú (and what we match on)."""
    return "".join(c for c in unicodedata.normalize("NFD", text.lower())
                   if not unicodedata.combining(c))


# -- each instruction, said in words a reader understands: every pattern of the list must match --
EN: dict[str, list[str]] = {
    "both-feet": [r"\bboth feet\b"],
    "soles": [r"\bsoles?\b"],
    "between-toes": [r"\bbetween (your |the )?toes\b"],
    "look-for-signs": [r"\bcuts?\b", r"\bblisters?\b", r"\bredness\b", r"\bswelling\b",
                       r"\bcolou?r\b"],
    "found-one-call-doctor": [r"found one\? call your doctor today\.$"],
    "one-foot-warmer": [r"\bone foot warmer than the other\b"],
    "seated": [r"\b(sit|sitting|seated|in bed|lie down|lying)\b"],
    "light-pressure": [r"\b(light|lightly|gentle|gently)\b"],
    "skip-wounds-blisters-swelling-sore-spots": [r"\b(skip|never rub|never massage)\b",
                                                 r"\bwounds?\b", r"\bblisters?\b",
                                                 r"\bswelling\b", r"\bsore spots?\b"],
    "do-not-rub-calf": [r"\bcal(f|ves)\b", r"\b(do not|don't|never) (rub|touch|massage) it\b"],
    "call-doctor-today": [r"\bcall your doctor( or foot clinic)? today\b"],
    "call-911-if-sudden-cold-painful": [r"\bsudden\b", r"\bcold\b", r"\bpain", r"\bcall 911\b"],
    "call-911-if-short-of-breath": [r"\bshort of breath\b", r"\b911\b"],
    "cover-clean-dressing": [r"\bcover it\b"],
    "urgent-care-or-er-today": [r"\burgent care or the er today\b"],
    "warm-not-hot": [r"\bwarm, not hot\b"],
    "test-elbow-or-thermometer": [r"\b(test|tested)\b", r"\b(elbow|thermometer)\b"],
    "not-with-hand": [r"\bnot (with )?your hand\b|\bhands may not feel\b"],
    "dry-between-toes": [r"\b(dry|pat)\b[^.]*\bbetween (your |the )?toes\b"],
    "never-soak": [r"\bnever soak\b"],
    "no-heating-pad": [r"\bnever use a heating pad or electric blanket\b"],
    "no-hot-water-bottle": [r"\bnever use a hot-water bottle\b"],
    "loose-socks": [r"\bloose socks\b"],
    "never-barefoot": [r"\bnever go barefoot\b"],
    "not-broken-skin": [r"\bnot on broken skin\b|\boff broken skin\b|\bno oil on broken skin\b"],
    "not-between-toes": [r"\b(not|out from) (on )?between (your |the )?toes\b|"
                         r"\bor between (your |the )?toes\b"],
    "wipe-soles-before-standing": [r"\bwipe\b", r"\b(soles|them)\b",
                                   r"\b(before you stand|then stand|before you stand up)\b"],
    "socks-before-standing": [r"\bsocks on\b|\bput on socks\b|\bput socks on\b"],
    "ask-doctor-before-massage": [r"\bask your doctor before massage\b"],
    "never-cut-corns": [r"\bnever cut corns\b"],
    "no-corn-removers": [r"\b(do not|never|or) use corn removers\b"],
    "cut-straight-across": [r"\bstraight across\b"],
    "call-24-hour-line-now": [r"\b24-hour line\b", r"\bnow\b"],
    "keep-weight-off": [r"\bkeep weight off\b"],
    "no-massage-or-heat": [r"\bno massage\b", r"\bno heat\b|\bor heat\b"],
    "hold-counter": [r"\bhold a counter\b"],
    "in-shoes": [r"\b(in shoes|wear shoes|shoes on)\b"],
    "lower-feet-if-pain-or-pale": [r"\bhurt\b", r"\bpale\b", r"\blower them\b",
                                   r"\btell your doctor\b"],
    "daylight": [r"\bdaylight\b"],
    "sit-if-unsteady": [r"\bsit( down)? if (you feel )?unsteady\b"],
    "stop-if-rash": [r"\bstop\b", r"\brash\b"],
    "never-to-pain": [r"\bnever to pain\b"],
    "tell-care-team": [r"\btell your care team\b"],
    "no-massage-infection-or-weak-bone": [r"\b(no|do not) massage\b", r"\binfect", r"\bbone\b"],
}
ES: dict[str, list[str]] = {
    "both-feet": [r"\bambos pies\b"],
    "soles": [r"\bplantas?\b"],
    "between-toes": [r"\bentre (los )?dedos\b"],
    "look-for-signs": [r"\b(heridas?|cortes?)\b", r"\bampollas?\b", r"\b(rojez|enrojecimiento)\b",
                       r"\bhinchazon\b", r"\bcolor\b"],
    "found-one-call-doctor": [r"¿encontro algo\? llame hoy a su medico\.$"],
    "one-foot-warmer": [r"\bun pie caliente y el otro no\b"],
    "seated": [r"\b(sientese|acuestese|en la cama)\b"],
    "light-pressure": [r"\b(suave|suaves|suavidad)\b"],
    "skip-wounds-blisters-swelling-sore-spots": [r"\b(evite|nunca frote|nunca de masaje)\b",
                                                 r"\bheridas?\b", r"\bampollas?\b",
                                                 r"\bhinchazon\b", r"\bzonas? con dolor\b"],
    "do-not-rub-calf": [r"\bpantorrillas?\b", r"\bno la (toque|frote)\b"],
    "call-doctor-today": [r"\bllame hoy a su medico\b"],
    "call-911-if-sudden-cold-painful": [r"\bde repente\b", r"\bfria\b", r"\bdolor\b",
                                        r"\bllame al 911\b"],
    "call-911-if-short-of-breath": [r"\ble falta el aire\b", r"\b911\b"],
    "cover-clean-dressing": [r"\bcubrala\b"],
    "urgent-care-or-er-today": [r"\bhoy\b", r"\burgent care o a la sala de emergencias\b"],
    "warm-not-hot": [r"\btibia, no caliente\b"],
    "test-elbow-or-thermometer": [r"\b(pruebe|pruebela|probada)\b", r"\b(codo|termometro)\b"],
    "not-with-hand": [r"\bno con la mano\b|\bmanos tampoco\b"],
    "dry-between-toes": [r"\bseque\b[^.]*\bentre los dedos\b"],
    "never-soak": [r"\bnunca remoje\b"],
    "no-heating-pad": [r"\bnunca use\b", r"\balmohadilla\b", r"\belectrica\b"],
    "no-hot-water-bottle": [r"\bnunca use una bolsa de agua caliente\b"],
    "loose-socks": [r"\bcalcetines flojos\b"],
    "never-barefoot": [r"\bnunca ande con los pies descalzos\b"],
    "not-broken-skin": [r"\b(no|sin aceite|no ponga aceite) en piel lastimada\b"],
    "not-between-toes": [r"\b(ni|no) entre los dedos\b"],
    "wipe-soles-before-standing": [r"\blimpie\w*\b", r"\b(plantas|limpielas)\b",
                                   r"\bantes de pararse\b"],
    "socks-before-standing": [r"\bpongase calcetines\b"],
    "ask-doctor-before-massage": [r"\bpregunte a su medico antes del masaje\b"],
    "never-cut-corns": [r"\bnunca (se )?corte\b[^.]*\bcallos\b"],
    "no-corn-removers": [r"\b(no|ni) use (removedores|removedores de callos)\b"],
    "cut-straight-across": [r"\b(recto|rectas|linea recta)\b"],
    "call-24-hour-line-now": [r"\blinea de 24 horas\b", r"\bya\b"],
    "keep-weight-off": [r"\bno apoye peso\b"],
    "no-massage-or-heat": [r"\b(sin|nada de) masaje\b", r"\bni calor\b"],
    "hold-counter": [r"\bsujetese de un mueble\b"],
    "in-shoes": [r"\bcon zapatos\b"],
    "lower-feet-if-pain-or-pale": [r"\bduel", r"\bpalid", r"\bbajelos\b",
                                   r"\bavise a su medico\b"],
    "daylight": [r"\bde dia\b"],
    "sit-if-unsteady": [r"\bsientese si pierde el equilibrio\b"],
    "stop-if-rash": [r"\bdeje\b", r"\bsarpullido\b"],
    "never-to-pain": [r"\bnunca hasta el dolor\b"],
    "tell-care-team": [r"\b(avise|digalo)\b[^.]*\bequipo de salud\b"],
    "no-massage-infection-or-weak-bone": [r"\b(sin|no de) masaje\b", r"\binfectada\b",
                                          r"\bhueso\b"],
}
PHRASES = {"en": EN, "es": ES}
# Tags whose items must carry these instructions, so a must list cannot be left short.
REQUIRED_BY_TAG = {
    "massage": {"routine": ["light-pressure", "skip-wounds-blisters-swelling-sore-spots"]},
    "calf": {"routine": ["do-not-rub-calf", "call-doctor-today"]},
    "oil": {"routine": ["wipe-soles-before-standing", "not-broken-skin", "not-between-toes"]},
    "ball": {"routine": ["seated"]}, "roller": {"routine": ["seated"]},
    "heat": {"routine": ["warm-not-hot", "test-elbow-or-thermometer"]},
    "seated": {"routine": ["seated"], "tip": ["seated"]},
    "check": {"check": ["both-feet", "soles", "between-toes", "look-for-signs",
                        "found-one-call-doctor"]},
}
SHORTHAND = re.compile(r"\bx\s?\d+\b|\b\d+\s?x\b|\b\d+\s?(s|sec|secs|min|mins|h|hr)\b|/|"
                       r"\b\d+-\d+\b")


def entries(language: str) -> list[dict[str, Any]]:
    return [dict(entry, kind=section) for section in SECTIONS
            for entry in LIBRARIES[language][section]]


def states(language: str, instruction: str, text: str) -> bool:
    return all(re.search(p, plain(text)) for p in PHRASES[language][instruction])


ALL = [(language, entry) for language in LIBRARIES for entry in entries(language)]


@pytest.mark.parametrize(("language", "entry"), ALL,
                         ids=[f"{language}:{entry['id']}" for language, entry in ALL])
def test_every_texted_wording_states_each_instruction(language: str, entry: dict[str, Any]
                                                      ) -> None:
    must = entry.get("must")
    assert must is not None, f"{entry['id']}: no must list"
    unknown = [m for m in must if m not in PHRASES[language]]
    assert not unknown, f"{entry['id']}: instructions this checker does not know: {unknown}"
    for tag, by_kind in REQUIRED_BY_TAG.items():
        if tag in entry["tags"] or tag == entry["kind"]:
            missing = set(by_kind.get(entry["kind"], ())) - set(must)
            assert not missing, f"{entry['id']} ({tag}) must also list {missing}"
    for field in ("text", "short"):
        dropped = [m for m in must if not states(language, m, entry[field])]
        assert not dropped, f"{language} {entry['id']}.{field} does not state {dropped}: " \
                            f"{entry[field]!r}"
        assert not SHORTHAND.search(plain(entry[field])), (entry["id"], field, entry[field])


def test_both_libraries_ask_the_same_instructions_and_email_only_items() -> None:
    en = {e["id"]: (e["must"], e.get("sms", True)) for e in entries("en")}
    es = {e["id"]: (e["must"], e.get("sms", True)) for e in entries("es")}
    assert en == es


def test_the_review_markers_say_who_signed_off_spanish() -> None:
    """`reviewed = "..."` names the qualified medical translator who signed a Spanish string
    off. None has been yet, and the README must say Spanish needs that review before use."""
    reviewed = [e["id"] for e in entries("es") if e.get("reviewed")]
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    if not reviewed:
        assert "qualified medical translator" in readme and "before use" in readme


# -- GSM-7 accent stripping: no Spanish word may turn into another word -------------------------
# Words whose accent-less form (á í ó ú dropped for GSM-7) is a different, common word.
MUST_NOT_STRIP = ("está", "están", "avisó", "llamó", "pasó", "tomó", "revisó", "terminó", "más",
                  "sí", "tú", "él", "aún", "sólo", "qué", "cómo", "cuándo", "dónde", "papá",
                  "público", "práctica", "último", "última", "continúe", "límite", "sábana",
                  "médica", "célula", "éxito", "cálculo")


def _spanish_texts() -> list[str]:
    texts = [e[f] for e in entries("es") for f in ("text", "short")]
    for name in ("sms/nightly.es.txt.j2", "sms/weekly.es.txt.j2"):
        texts.append((TEMPLATES / name).read_text(encoding="utf-8"))
    return texts


def test_no_spanish_word_changes_meaning_when_its_accent_is_dropped() -> None:
    for text in _spanish_texts():
        words = set(re.findall(r"\w+", text.lower()))
        assert not words & {w for w in MUST_NOT_STRIP if w.isalpha()}, (words & set(
            MUST_NOT_STRIP), text[:120])


def test_spanish_says_urgent_care_as_english_does() -> None:
    for text in _spanish_texts():
        assert "urgencias" not in plain(text), text  # the ER in US Spanish: not urgent care
        for masculine in ("sentado", "descalzo ", "bienvenido", "inscrito"):
            assert masculine not in plain(text), (masculine, text)


# -- the checker's own SMS segment counter -----------------------------------------------------
GSM_BASIC = set("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLM"
                "NOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
GSM_EXTENSION = set("^{}\\[~]|€\f")


def segments(body: str) -> tuple[str, int]:
    if all(c in GSM_BASIC or c in GSM_EXTENSION for c in body):
        septets = sum(2 if c in GSM_EXTENSION else 1 for c in body)
        return "GSM-7", 1 if septets <= 160 else -(-septets // 153)
    units = len(body.encode("utf-16-le")) // 2
    return "UCS-2", 1 if units <= 70 else -(-units // 67)


def test_the_own_counter_on_known_cases() -> None:
    assert segments("a" * 160) == ("GSM-7", 1) and segments("a" * 161) == ("GSM-7", 2)
    assert segments("[" * 80) == ("GSM-7", 1) and segments("[" * 81) == ("GSM-7", 2)
    assert segments("a" * 306) == ("GSM-7", 2) and segments("a" * 307) == ("GSM-7", 3)
    assert segments("á" * 70) == ("UCS-2", 1) and segments("á" * 71) == ("UCS-2", 2)


# -- a year of nights, every profile ----------------------------------------------------------
CAUSES = (None, "diabetes", "cancer_treatment", "other")
NAMES = ("", "Ana", "Maximiliana-Theodora")
PROFILES = list(product(CAUSES, (False, True), (False, True), (False, True), ("en", "es"),
                        NAMES))
CANCER_ONLY = {"s-flag-fever", "s-tell-team"}
FLAG_NOT = {"massage", "heat", "walk", "standing", "move:heel-lift"}
COUNTS: Counter[str] = Counter()


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer(TEMPLATES, "Foot Care Reminders", max_segments=SMS_MAX_SEGMENTS)


def _person(n: int, cause: str | None, massage: bool, heat: bool, flag: bool, language: str,
            name: str) -> Subscriber:
    return Subscriber(id=f"p{n:04d}", phone="+15005550006", email="a@example.org", name=name,
                      timezone="America/Chicago", send_time=time(20, 0),
                      channels=parse_set("both"),
                     sms_status="active", heat_ok=heat, massage_ok=massage, cause=cause,
                      flag_until=date(2099, 1, 1) if flag else None, language=language)


@pytest.mark.parametrize(("cause", "massage", "heat", "flag", "language", "name"), PROFILES)
def test_a_year_of_nights_is_safe_as_sent(renderer: Renderer, cause: str | None, massage: bool,
                                          heat: bool, flag: bool, language: str,
                                          name: str) -> None:
    library = {e["id"]: e for e in entries(language)}
    for n, day in enumerate(YEAR):
        sub = _person(n % 7, cause, massage, heat, flag, language, name)
        preview = renderer.tonight(sub, day).preview()
        body: str = preview["sms"]["body"]  # type: ignore[index]
        where = f"{cause} massage={massage} heat={heat} flag={flag} {language} {day}: {body!r}"
        encoding, count = segments(body)
        assert encoding == "GSM-7" and count <= SMS_MAX_SEGMENTS, where
        assert not SHORTHAND.search(plain(body)), where
        lines = body.splitlines()
        assert lines[0].startswith("1. ") or lines[1].startswith("1. "), where
        items: list[dict[str, Any]] = preview["items"]  # type: ignore[assignment]
        assert items[0]["kind"] == "check" and items[0]["text"] in body, where
        for item in items:
            entry = library[item["id"]]
            assert item["text"] in body, where
            assert entry.get("sms", True), f"an email-only item was texted: {where}"
            for instruction in entry["must"]:
                assert states(language, instruction, item["text"]), (instruction, where)
            tags = set(item["tags"])
            assert cause == "cancer_treatment" or item["id"] not in CANCER_ONLY, where
            assert "calf" not in tags or cause in ("diabetes", "other"), where
            assert massage or "massage" not in tags, where
            assert heat or "heat" not in tags, where
            if flag and item["kind"] in ("routine", "tip"):
                assert not tags & FLAG_NOT and tags & {"seated", "elevation"}, where
        safety = items[-1]
        assert safety["kind"] == "safety", where
        assert ("open-flag" in safety["tags"]) == flag, where
        COUNTS[f"{language} nights"] += 1
        COUNTS[f"{language} nights with the tip by email only"] += len(items) == 3
        COUNTS[f"{language} massage nights"] += "massage" in items[1]["tags"]


def test_zz_report_the_counts() -> None:
    """Printed with -s: how many nights were read, and what they held."""
    print("\nnights read:", dict(sorted(COUNTS.items())))
