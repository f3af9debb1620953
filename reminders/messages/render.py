"""Tonight's message for one person: choose the items, render the templates, fit the SMS budget.

Message wording lives only in templates/ (Jinja2, StrictUndefined: a missing variable is an
error, not an empty string). The SMS is normalised to GSM-7 after rendering and, when it would
cost more than SMS_MAX_SEGMENTS, re-rendered with shorter variants until it fits; it is never
cut mid-sentence.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from jinja2 import Template

from reminders.domain.content import Allowed, Item, Library, Selection, load_library, select
from reminders.domain.frequency import full_routine_on, habit_offer_due
from reminders.domain.gsm import count_segments, to_gsm7
from reminders.domain.subscriber import DEFAULT_LANGUAGE, LANGUAGES, Subscriber
from reminders.messages.environment import environment, localised

MAX_NAME_IN_SMS = 20
# The nightly footers (templates/sms/nightly.txt.j2), richest first: HELP gives way only when
# tonight's advice needs the room; STOP never does.
FULL_FOOTER, HELP_AND_STOP, STOP_ONLY = 2, 1, 0
# Its first line: the program's name and the greeting, the name alone, or the program's tag.
GREETING, PROGRAM_NAME, PROGRAM_TAG = 2, 1, 0
MAX_TAG = 12  # septets of the program's tag (program_tag)


class BudgetError(RuntimeError):
    """Not even the shortest variant fits the SMS budget (the content library is too long)."""


@dataclass(frozen=True)
class RenderedSms:
    body: str
    segments: int
    encoding: str
    texts: tuple[str, ...]  # the wording used for check, routine, tip (unless left out), safety


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class Tonight:
    date: date
    selection: Selection
    sms: RenderedSms
    email: RenderedEmail

    def preview(self) -> dict[str, object]:
        """The `preview --json` object of the contract."""
        return {
            "date": self.date.isoformat(),
            "sms": {"body": self.sms.body, "segments": self.sms.segments,
                    "encoding": self.sms.encoding},
            "email": {"subject": self.email.subject, "text": self.email.text,
                      "html": self.email.html},
            "items": [
                {"id": item.id, "kind": item.kind, "tags": list(item.tags), "text": text}
                for item, text in zip(self.selection.sms_items, self.sms.texts, strict=True)
            ],
        }


@dataclass(frozen=True)
class _Language:
    """One language's content library and nightly templates (the files of environment.localised)."""

    library: Library
    sms: Template
    subject: Template
    text: Template
    html: Template
    check: Template  # the evenings with the foot check alone, or with the habit offer


class Renderer:
    def __init__(self, templates_dir: Path, program_name: str, max_segments: int) -> None:
        self.templates_dir = templates_dir
        self.program_name = program_name
        # What opens every evening's text: the name with the greeting, the tag when tight.
        self._program = {"program_name": program_name, "program_tag": program_tag(program_name)}
        self.max_segments = max_segments
        env = environment(templates_dir)
        self._languages = {
            language: _Language(
                load_library(templates_dir / "content" / localised("library.toml", language)),
                *(env.get_template(localised(name, language)) for name in (
                    "sms/nightly.txt.j2", "email/nightly_subject.txt.j2", "email/nightly.txt.j2",
                    "email/nightly.html.j2", "sms/check.txt.j2")))
            for language in LANGUAGES}
        self.library = self._languages[DEFAULT_LANGUAGE].library
        self._frames: dict[tuple[str, str, int, int], int] = {}
        self._budget = 160 if max_segments == 1 else 153 * max_segments
        # Septets of each item's short wording as sent, and of the barest frame, per language:
        # what `_fits` adds up (an evening's items must fit in every language, so a person
        # gets the same items whichever language they read).
        self._short_septets = {
            language: {item.id: _septets(to_gsm7(item.short)) for pool in (
                lang.library.checks, lang.library.routines, lang.library.tips,
                lang.library.safety) for item in pool}
            for language, lang in self._languages.items()}
        bare = Wording(("x",) * 4, STOP_ONLY, "", PROGRAM_TAG)
        self._bare = {language: self._frame(lang.sms, language, bare)
                      for language, lang in self._languages.items()}

    def _in(self, sub: Subscriber) -> _Language:
        return self._languages[sub.language]

    def select(self, sub: Subscriber, day: date) -> Selection:
        # Every language's library has the same ids and tags (tests/messages/test_translations.py),
        # so a person gets the same items whichever language they read them in.
        allowed = Allowed(heat=sub.heat_ok, massage=sub.massage_ok, cause=sub.cause,
                          sms=sub.wants_sms, flag_open=sub.flag_open_on(day))
        # Checked against the SMS budget whatever the channels: `preview` shows the text an
        # email-only person would get by SMS too, and switching channel keeps tonight's items.
        chosen = select(self._in(sub).library, sub.id, day, allowed, fits=self._fits)
        # The cycles move on every evening whatever the schedule, so a lighter evening takes
        # nothing from the next routine evening's variety.
        if not full_routine_on(sub.frequency, sub.routine_days, day):
            return replace(chosen, check_only=True)
        if habit_offer_due(sub.frequency, _started(sub), day):
            offered = replace(chosen, offer=True)
            try:
                self._check_sms(sub, offered)
            except BudgetError:  # a one-segment budget: tonight's text as usual, no offer
                return chosen
            return offered
        return chosen

    def _fits(self, ids: tuple[str, str, str, str]) -> bool:
        """Whether these items' short wordings fit the SMS budget together, in every language."""
        return all(self._bare[language] + sum(septets.get(i, 0) for i in ids) <= self._budget
                   for language, septets in self._short_septets.items())

    def tonight(self, sub: Subscriber, day: date, unsubscribe_url: str | None = None) -> Tonight:
        selection = self.select(sub, day)
        return Tonight(day, selection, self.sms(sub, selection),
                       self.email(sub, selection, day, unsubscribe_url))

    def sms(self, sub: Subscriber, selection: Selection) -> RenderedSms:
        if selection.check_only or selection.offer:
            return self._check_sms(sub, selection)
        name = sms_name(sub.name)
        budget = self._budget
        template = self._in(sub).sms
        for wording in _variants(selection, name):
            # Skip, without rendering, the variants that cannot fit (the hot path of a send).
            if self._frame(template, sub.language, wording) + sum(map(_septets, wording.texts)
                                                                  ) > budget:
                continue
            body = _render_sms(template, wording, self._program)
            count = count_segments(body)
            if count.encoding == "GSM-7" and count.segments <= self.max_segments:
                # The items as sent (a translation's á í ó ú lose their accent in GSM-7).
                return RenderedSms(body, count.segments, count.encoding,
                                   tuple(to_gsm7(text) for text in wording.texts))
        raise BudgetError(
            f"no variant of tonight's text fits {self.max_segments} segment(s) "
            f"({', '.join(i.id for i in selection.items)})"
        )

    def _check_sms(self, sub: Subscriber, selection: Selection) -> RenderedSms:
        """The foot check alone (with the habit offer on its evening): one segment when any
        form fits in one (the richest such), else the richest form within the budget."""
        template, name = self._in(sub).check, sms_name(sub.name)
        full, short = selection.check.text, selection.check.short
        forms = [(full, True, name, True), (short, True, name, True), (short, False, "", True),
                 (short, False, "", False)]
        bodies = [(to_gsm7(template.render(
            check=text, offer=selection.offer, lighter=sub.frequency == "lighter",
            long_footer=footer, name=who, header=header, **self._program).strip()), text)
            for text, footer, who, header in forms]
        for limit in (1, self.max_segments):
            for body, text in bodies:
                count = count_segments(body)
                if count.encoding == "GSM-7" and count.segments <= limit:
                    return RenderedSms(body, count.segments, count.encoding, (to_gsm7(text),))
        raise BudgetError(f"tonight's foot check does not fit {self.max_segments} segment(s)")

    def _frame(self, template: Template, language: str, wording: Wording) -> int:
        """Septets the template adds around the four items (greeting, numbering, footer)."""
        key = (language, wording.name, wording.footer, wording.header)
        if key not in self._frames:
            # Four placeholders: with three items the frame is 4 septets smaller ("3. " and a
            # line break fewer, "" for the tip), so this errs on the safe side.
            blank = Wording(("x",) * 4, wording.footer, wording.name, wording.header)
            self._frames[key] = _septets(_render_sms(template, blank, self._program)) - 4
        return self._frames[key]

    def email(
        self, sub: Subscriber, selection: Selection, day: date, unsubscribe_url: str | None
    ) -> RenderedEmail:
        name = " ".join(sub.name.split()[:1])
        language = self._in(sub)
        context = {
            "name": name, "program_name": self.program_name, "weekday": day.strftime("%A"),
            "day": day,
            "check": selection.check, "routine": selection.routine, "tip": selection.tip,
            "safety": selection.safety,
            "unsubscribe_url": unsubscribe_url,
        }
        subject = " ".join(language.subject.render(**context).split())
        return RenderedEmail(
            subject=subject,
            text=language.text.render(**context).strip() + "\n",
            html=language.html.render(subject=subject, **context),
        )


def _started(sub: Subscriber) -> date | None:
    """The person's first local evening (from created_at, UTC), for the habit offer."""
    try:
        created = datetime.strptime(sub.created_at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        return created.astimezone(ZoneInfo(sub.timezone)).date()
    except (ValueError, KeyError):
        return None


def _render_sms(template: Template, wording: Wording, program: dict[str, str]) -> str:
    check, routine, tip, safety = (wording.texts if len(wording.texts) == 4
                                   else (*wording.texts[:2], "", wording.texts[2]))
    return to_gsm7(template.render(
        name=wording.name, header=wording.header, check=check, routine=routine, tip=tip,
        safety=safety, footer=wording.footer, **program).strip())


def _septets(text: str) -> int:
    return count_segments(text).units


def program_tag(program_name: str) -> str:
    """The program's short tag for a tight evening ("Foot Care Reminders" -> "FootCare"): the
    name itself when short, else its first two words run together. Carriers expect a recurring
    text to name its program; the advice must not give way to it."""
    name = to_gsm7(" ".join(program_name.split()))
    if len(name) <= MAX_TAG:
        return name
    return "".join(word[:1].upper() + word[1:] for word in name.split()[:2])[:MAX_TAG]


def sms_name(full_name: str) -> str:
    """First name only, in GSM-7; left out when it would crowd the advice."""
    first = to_gsm7(" ".join(full_name.split()[:1])).strip()
    return first if len(first) <= MAX_NAME_IN_SMS else ""


@dataclass(frozen=True)
class Wording:
    """One candidate form of tonight's text."""

    texts: tuple[str, ...]  # check, routine, tip, safety
    footer: int  # FULL_FOOTER (DONE, HELP, STOP), HELP_AND_STOP or STOP_ONLY
    name: str  # the first name in the greeting, or ""
    header: int  # GREETING ("Foot Care Reminders: Ana, tonight's foot care:"), PROGRAM_NAME
    # ("Foot Care Reminders:") or PROGRAM_TAG ("FootCare:")


def _variants(selection: Selection, name: str) -> Iterator[Wording]:
    """Candidate wordings, richest first: shorten the longest item, then the footer (DONE goes
    first), the person's name, the greeting, the program's name for its tag, and last HELP.
    The program (name or tag) and STOP are in every form (carriers expect both in a recurring
    text); the selection fits the advice beside the barest form, so nothing gives way to them.

    A short wording keeps every safety word of its long form
    (tests/messages/test_content_safety.py), so shortening never drops a caution, only words around
    it.
    """
    items: list[Item] = list(selection.sms_items)
    texts = [i.text for i in items]
    yield Wording(tuple(texts), FULL_FOOTER, name, GREETING)
    for index in sorted(range(len(items)), key=lambda i: len(items[i].text), reverse=True):
        texts[index] = items[index].short
        yield Wording(tuple(texts), FULL_FOOTER, name, GREETING)
    yield Wording(tuple(texts), HELP_AND_STOP, name, GREETING)
    if name:
        yield Wording(tuple(texts), HELP_AND_STOP, "", GREETING)
    yield Wording(tuple(texts), HELP_AND_STOP, "", PROGRAM_NAME)
    yield Wording(tuple(texts), HELP_AND_STOP, "", PROGRAM_TAG)
    yield Wording(tuple(texts), STOP_ONLY, "", PROGRAM_NAME)
    yield Wording(tuple(texts), STOP_ONLY, "", PROGRAM_TAG)
