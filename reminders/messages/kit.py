"""The 10DLC registration kit (`reminders registration-kit`): the campaign's fields, the opt-in
flow, sample messages rendered from the real templates, the SMS terms and privacy clauses and
a call-to-action page, as files a clinic hands to its provider.

Why: US 10DLC campaigns are rejected for missing opt-in evidence, terms or privacy wording
(Twilio errors 30882, 30908) and for fields not in English (30910). So the registration
fields (registration.json) are English only; the Spanish samples sit beside them in
samples.txt with their English translation (the same template in English, same evening). The
wording of the documents is in templates/kit/; the samples are what the service sends.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import date, time, timedelta
from pathlib import Path

from reminders.domain.states import SmsStatus
from reminders.domain.subscriber import LANGUAGES, Subscriber
from reminders.domain.validation import format_clock
from reminders.domain.weekly import WeekFacts
from reminders.messages.environment import environment
from reminders.messages.render import Renderer
from reminders.messages.replies import Replies
from reminders.messages.weekly import WeeklyTexts

SAMPLE_TIME = time(19, 30)
FIRST_SAMPLE_EVENING = date(2027, 2, 1)
# Keywords a sample must name, per language (the Spanish ones are what we answer in Spanish).
KEYWORDS = {"en": ("HELP", "STOP"), "es": ("AYUDA", "ALTO")}


@dataclass(frozen=True)
class Sample:
    kind: str  # confirmation | welcome | nightly | weekly | help | stop | reconfirm
    language: str
    body: str
    english: str  # the same template in English: the translation a reviewer reads


@dataclass(frozen=True)
class KitInput:
    templates_dir: Path
    program_name: str
    support: str
    max_segments: int
    sender: str  # the number (or messaging service) people text; "" when not configured
    send_window: str  # "16:00-21:00 (FL 16:00-20:00, ...)"


def samples(kit: KitInput) -> list[Sample]:
    """Every kind of text a person can get, in every language, from the real templates."""
    replies = Replies(kit.templates_dir)
    weekly = WeeklyTexts(kit.templates_dir, kit.program_name, kit.max_segments)
    renderer = Renderer(kit.templates_dir, kit.program_name, kit.max_segments)
    when = format_clock(SAMPLE_TIME)
    evening = _full_evening(renderer, kit.program_name)
    facts = WeekFacts(evening, f"{evening:%G-W%V}", 5, 3, 4, 5, "little_lower", ())

    def texts(language: str) -> dict[str, str]:
        said = replies.in_language(language)
        return {
            "confirmation": said.text("confirm", program_name=kit.program_name, time=when),
            "welcome": said.render("started", program_name=kit.program_name, time=when),
            "nightly": renderer.tonight(_person(language), evening).sms.body,
            "weekly": weekly.in_language(language).person_sms(facts),
            "help": said.render("help", program_name=kit.program_name, when=when,
                                support=kit.support),
            "stop": said.render("stopped", program_name=kit.program_name),
        }

    english = texts("en")
    return [Sample(kind, language, body, english[kind])
            for language in LANGUAGES for kind, body in texts(language).items()]


def _person(language: str) -> Subscriber:
    return Subscriber(id="sample", phone="+12025550100", email=None, name="Ana",
                      timezone="America/Chicago", send_time=SAMPLE_TIME,
                      channels=frozenset({"sms"}), sms_status=SmsStatus.ACTIVE,
                      language=language)


def _full_evening(renderer: Renderer, program_name: str) -> date:
    """The first sample evening whose text, in every language, has the program's full name
    (not only its tag) and HELP as well as STOP; tight evenings give way to the advice."""
    for offset in range(366):
        day = FIRST_SAMPLE_EVENING + timedelta(days=offset)
        bodies = {lang: renderer.tonight(_person(lang), day).sms.body for lang in LANGUAGES}
        if all(program_name in body and all(k in body for k in KEYWORDS[lang])
               for lang, body in bodies.items()):
            return day
    return FIRST_SAMPLE_EVENING


def build(kit: KitInput) -> dict[str, str]:
    """File name -> content."""
    found = samples(kit)
    english = {s.kind: s.body for s in found if s.language == "en"}
    env = environment(kit.templates_dir)
    context = {"kit": kit, "samples": found, "en": english}
    files = {name: env.get_template(f"kit/{name}.j2").render(**context) for name in (
        "campaign.md", "sms-terms-and-privacy.md", "opt-in.html", "samples.txt")}
    files["registration.json"] = json.dumps(registration(kit, english), indent=2) + "\n"
    files["samples.json"] = json.dumps([asdict(s) for s in found], indent=2) + "\n"
    return files


def registration(kit: KitInput, english: dict[str, str]) -> dict[str, object]:
    """The campaign's fields as a provider's form asks for them, in English (error 30910)."""
    env = environment(kit.templates_dir)
    module = env.get_template("kit/fields.txt.j2").make_module({"kit": kit})
    return {
        "use_case": "MIXED",
        "description": _field(module, "description"),
        "message_flow": _field(module, "message_flow"),
        "sample_messages": [english[k] for k in ("nightly", "weekly", "confirmation",
                                                 "welcome", "help")],
        "opt_in_message": english["confirmation"],
        "opt_in_keywords": ["JOIN", "START", "YES"],
        "opt_out_message": english["stop"],
        "opt_out_keywords": ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT",
                             "OPTOUT", "REVOKE"],
        "help_message": english["help"],
        "help_keywords": ["HELP", "INFO"],
        "has_embedded_links": False,
        "has_embedded_phone": bool(kit.support),
        "age_gated": False,
        "direct_lending": False,
        "terms_and_privacy": "sms-terms-and-privacy.md (publish it; link it from opt-in.html)",
    }


def _field(module: object, macro: str) -> str:
    """One macro of templates/kit/fields.txt.j2, on one line."""
    return " ".join(str(getattr(module, macro)()).split())
