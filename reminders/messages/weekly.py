"""The weekly progress text, its email (with a chart of the last 28 evenings) and the caregiver
texts, rendered from templates/sms/weekly.txt.j2, templates/sms/care.txt.j2 and
templates/email/weekly*.j2, made GSM-7 and fitted into SMS_MAX_SEGMENTS.

The email's chart is HTML table cells (a height and a color each): it shows in mail clients
that load no images, and carries its text equivalent (aria-label, and a list of the evenings).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Template

from reminders.domain.gsm import count_segments, to_gsm7
from reminders.domain.subscriber import DEFAULT_LANGUAGE
from reminders.domain.weekly import WeekFacts
from reminders.messages.environment import environment, localised
from reminders.messages.render import RenderedEmail, sms_name

BAR_MAX_PX = 80
FORMS = ("full", "short", "tiny")


class TooLong(RuntimeError):
    """Not even the shortest form of a text fits SMS_MAX_SEGMENTS."""


@dataclass(frozen=True)
class Bar:
    label: str
    height: int
    score: int | None
    done: bool


class WeeklyTexts:
    def __init__(self, templates_dir: Path, program_name: str, max_segments: int,
                 language: str = DEFAULT_LANGUAGE) -> None:
        self.env = environment(templates_dir)
        self.program_name = program_name
        self.max_segments = max_segments
        self.templates_dir = templates_dir
        self.language = language

    def in_language(self, language: str) -> WeeklyTexts:
        """The same texts in `language` (the person's: a caregiver's texts about a person are
        in that person's language)."""
        if language == self.language:
            return self
        return WeeklyTexts(self.templates_dir, self.program_name, self.max_segments, language)

    def _macro(self, template: str, macro: str, /, **context: Any) -> str:
        module = self.env.get_template(localised(template, self.language)).module
        return to_gsm7(" ".join(str(getattr(module, macro)(**context)).split()))

    def _fit(self, template: str, macro: str, /, **context: Any) -> str:
        """The full form if it fits the budget, else the short one (no kind line), else the
        tiny one (the same facts, fewer words: one segment)."""
        for form in FORMS:
            body = self._macro(template, macro, form=form, **context)
            count = count_segments(body)
            if count.encoding == "GSM-7" and count.segments <= self.max_segments:
                return body
        raise TooLong(f"{macro} does not fit {self.max_segments} segment(s)")

    def person_sms(self, facts: WeekFacts) -> str:
        return self._fit("sms/weekly.txt.j2", "person", program_name=self.program_name,
                         w=facts)

    def caregiver_sms(self, person_name: str, facts: WeekFacts) -> str:
        return self._fit("sms/weekly.txt.j2", "caregiver", program_name=self.program_name,
                         name=self._who(person_name), w=facts)

    def care(self, macro: str, /, **context: Any) -> str:
        """A caregiver text or a reply about the link (templates/sms/care.txt.j2)."""
        return self._macro("sms/care.txt.j2", macro, **context)

    def reply(self, macro: str, /, **context: Any) -> str:
        return self._macro("sms/weekly.txt.j2", macro, **context)

    def invitation(self, person_name: str, support: str) -> str:
        return self.care("invitation", program_name=self.program_name,
                         name=self._who(person_name), support=support)

    def alert(self, person_name: str, level: str, category: str, when: str) -> str:
        """The caregiver's alert: the category and our advice, never the person's words.
        `when` is "today" or "tonight" (the person's local time)."""
        for form in FORMS:
            body = self.care("alert", program_name=self.program_name,
                             name=self._who(person_name), level=level, category=category,
                             when=when, form=form)
            count = count_segments(body)
            if count.encoding == "GSM-7" and count.segments <= self.max_segments:
                return body
        raise TooLong("the caregiver alert does not fit the segment budget")

    def version(self, template: str) -> str:
        """Which wording was sent, for the consent log: the template's name and a digest of
        its source (changes whenever the wording does)."""
        template = localised(template, self.language)
        path = self.templates_dir / template
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:10]
        return f"{template}@{digest}"

    def email(self, person_name: str, facts: WeekFacts, unsubscribe_url: str | None
              ) -> RenderedEmail:
        words = self.env.get_template(localised("sms/weekly.txt.j2", self.language)).module
        bars = [_bar(str(words.bar_label(e.day, e.done, e.score)), e.score, e.done)  # type: ignore[attr-defined]
                for e in facts.evenings]
        scores = [b.score for b in bars if b.score is not None]
        alt = str(words.chart_alt(len(bars), sum(b.done for b in bars),  # type: ignore[attr-defined]
                                  min(scores) if scores else None,
                                  max(scores) if scores else None))
        context = {"name": " ".join(person_name.split()[:1]), "w": facts,
                   "program_name": self.program_name, "unsubscribe_url": unsubscribe_url,
                   "bars": bars, "bar_max": BAR_MAX_PX, "chart_alt": alt}
        def template(name: str) -> Template:
            return self.env.get_template(localised(name, self.language))

        subject = " ".join(template("email/weekly_subject.txt.j2").render(**context).split())
        return RenderedEmail(
            subject=subject,
            text=template("email/weekly.txt.j2").render(**context).strip() + "\n",
            html=template("email/weekly.html.j2").render(subject=subject, **context))

    def _who(self, person_name: str) -> str:
        """How a caregiver text names the person: their first name (a long one, or none: "Your
        family member", in the text's language)."""
        return sms_name(person_name) or self._macro("sms/weekly.txt.j2", "someone")


def _bar(label: str, score: int | None, done: bool) -> Bar:
    height = 4 if score is None else max(4, BAR_MAX_PX * score // 10)
    return Bar(label, height, score, done)
