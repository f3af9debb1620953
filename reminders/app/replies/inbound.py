"""A text from a person: work out what they meant, change what they asked, say what happened.

Used by the signed webhook and by `reminders reply`. Returns the reply text, or None when
nothing should be said (Twilio already answered STOP/START, the person opted out, or the number
is sending too much). Consent changes are always recorded, whatever the rate limit says.

The order: STOP always wins and is always recorded (its one confirmation adds the 988 line, 911
or "call your doctor today" when the text needed it); then what the triage finds needs
attention (emergency, crisis, urgent, same day, soon: one reply, see app/care/foot_problems.py);
then the commands; then the routine answers and good reports; anything else gets the safety net
(automated line, 911, your doctor today, HELP) and goes to the inbox for a person. `last` says what
was made of the latest text (`reply --json`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from reminders.app.care import silence
from reminders.app.care.foot_problems import ATTENTION, Care, Kept
from reminders.app.care.review import Reviews
from reminders.app.compliance import reconfirm
from reminders.app.people.caregivers import Caregivers
from reminders.app.people.preferences import Enrolment, enrol
from reminders.app.replies import caregiver_texts
from reminders.app.replies.commands import Preferences
from reminders.app.replies.program import Program
from reminders.domain import opt_out
from reminders.domain.keywords import Command, parse
from reminders.domain.subscriber import Subscriber, now_iso
from reminders.domain.triage import NOTHING, Assessment, Level, Triage, assess
from reminders.domain.validation import format_clock
from reminders.messages.replies import Replies
from reminders.settings import Settings
from reminders.storage import counters
from reminders.storage.subscribers import ConsentEvent, Store

log = logging.getLogger(__name__)

# Replies per number per hour: enough for a person, too few for an auto-responder loop.
INBOUND_REPLIES_PER_HOUR = 20


@dataclass(frozen=True)
class Heard:
    """What was made of one text (`reminders reply --json`)."""

    command: str
    triage: Triage
    flag: bool = False


# What the one STOP confirmation adds, by the most urgent thing the text also said.
_STOP_CARE = {Level.EMERGENCY: "911", Level.CRISIS: "988", Level.URGENT: "doctor",
              Level.SAME_DAY: "doctor"}


@dataclass
class Inbound:
    store: Store
    settings: Settings
    replies: Replies
    now: datetime
    # Called with the subscriber after EMAIL adds an address (sends the confirmation link).
    on_email_added: Callable[[Subscriber], object] | None = None
    # Caregiver links (CARE YES/OFF, a caregiver's YES and STOP) and WEEKLY ON/OFF; None: off.
    caregivers: Caregivers | None = None
    # Called with (subscriber id, alert key, "<level>:<category>") after a report the
    # caregiver should hear of: hands the alert to a worker (the webhook never waits on the
    # provider). Never the person's words.
    on_foot_problem: Callable[[str, str, str], object] | None = None
    # The text as it came (EMAIL reads the address from it, not from the normalised words).
    text: str = field(default="", init=False)
    heard: Assessment = field(default_factory=lambda: Assessment((), False, False, False),
                              init=False)
    last: Heard = field(default_factory=lambda: Heard("unknown", NOTHING), init=False)
    # What this text left for a person (Care.keep): review items, opened with the reply.
    kept: list[Kept] = field(default_factory=list, init=False)
    # Called with the id of a new review item (hands an at-once escalation to a worker).
    on_review: Callable[[str], object] | None = None

    def handle(self, phone: str, body: str) -> str | None:
        self.text = body
        command = parse(body)
        sub = self.store.find(phone)
        # Answer in the person's language; a Spanish keyword (ALTO, AYUDA, UNIRME...) is
        # answered in Spanish whoever sends it (Twilio's own keyword replies are English-only).
        language = command.language if command.language != "en" or sub is None else sub.language
        self.replies = self.replies.in_language(language)
        # What the person is treated for changes what a fever means (cancer treatment: care now).
        self.heard = assess(body, language, cause=sub.cause if sub is not None else None)
        self.last = Heard(str(command.kind), self.heard.top)
        log.info("inbound subscriber=%s command=%s level=%s category=%s",
                 sub.id if sub else "unknown", command.kind, self.heard.top.level,
                 self.heard.top.category)
        self.store.counters.incr(counters.inbound(command.kind))
        reply = self._dispatch(command, phone, sub)
        if reply is not None and not self._may_reply(phone, command):
            reply = None
        self._open_reviews(reply)
        if sub is not None:
            silence.heard_from(self.store, sub.id, self.now)
            self._remember(sub, body, reply)
        return reply

    def _remember(self, sub: Subscriber, body: str, reply: str | None) -> None:
        """The person's message history: their text (with what the triage made of it) and
        our reply."""
        at = now_iso(self.now)
        top = self.heard.top
        said = [{"dir": "in", "at": at, "text": body, "kind": self.last.command,
                 "level": str(top.level), "category": top.category}]
        if reply:
            said.append({"dir": "out", "at": at, "text": reply, "kind": "reply"})
        self.store.conversation.add(sub.id, *said)

    def _open_reviews(self, reply: str | None) -> None:
        reviews = Reviews(self.store, self.settings.care)
        for kept in self.kept:
            item_id, new = reviews.open(
                kind=kept.kind, phone=kept.phone, subscriber_id=kept.subscriber,
                level=str(kept.found.level), category=kept.found.category, text=kept.words,
                now=self.now, reply=reply or "")
            if new and self.on_review is not None:
                self.on_review(item_id)

    def _may_reply(self, phone: str, command: Command) -> bool:
        count = self.store.limits.count_reply(phone)
        if count > INBOUND_REPLIES_PER_HOUR:
            log.warning("inbound rate-limited command=%s count=%s", command.kind, count)
            return False
        return True

    def _dispatch(self, command: Command, phone: str, sub: Subscriber | None) -> str | None:
        if self.caregivers is not None:
            handled = caregiver_texts.route(self.caregivers, command, phone, sub, opt_out.scope(
                self.settings.opt_out_scope, self.now.astimezone(UTC).date()))
            if handled is not None:
                if handled.go_on:
                    mine = self._dispatch_own(command, phone, sub)
                    return mine or handled.reply
                return handled.reply
        return self._dispatch_own(command, phone, sub)

    def _dispatch_own(self, command: Command, phone: str, sub: Subscriber | None
                      ) -> str | None:
        if command.kind == "stop":
            return self._stop(phone, sub, command)
        if self.heard.top.level in ATTENTION:
            return self._attend(phone, sub, command)
        if command.kind in ("start", "join"):
            return self._start(phone, sub, command)
        if command.kind == "help":
            return self._help(sub, command)
        if command.kind == "unknown" and self.heard.top.level == Level.ROUTINE:
            return self._care().routine(sub, phone, self.heard, command.words)
        if sub is None:
            return self.replies.render("not_subscribed")
        if sub.sms_status == "opted_out":
            return None  # after STOP, nothing but the answer to START or HELP
        if sub.sms_status == "pending":
            return self.replies.render("confirm_first")
        handler = self._commands().get(command.kind)
        if handler is not None:
            return handler(sub, command)
        return self._free_text(phone, sub, command)

    def _free_text(self, phone: str, sub: Subscriber, command: Command) -> str:
        """No command: a good report gets a kind answer ("no blisters today"; "Done. Feet look
        fine" records DONE too), anything else the safety net."""
        if self.heard.good:
            if self.heard.done:
                return self._preferences().done(sub, command)
            return self.replies.render("good_report")
        return self._care().not_understood(sub, phone, command.words)

    def _attend(self, phone: str, sub: Subscriber | None, command: Command) -> str:
        """A text the triage says needs attention: its one reply wins over any command in it,
        but a DONE or a score in the same text is still recorded."""
        if sub is not None and sub.sms_status == "active" and command.kind in ("done", "score"):
            self._commands()[command.kind](sub, command)
        attended = self._care().attend(sub, phone, self.heard, command.words)
        self.last = Heard(self.last.command, self.last.triage, attended.flagged)
        if sub is not None and attended.for_caregiver and self.on_foot_problem is not None:
            # One alert per report: its key is the report's instant (ms).
            key = f"alert:{int(self.now.timestamp() * 1000)}"
            self.on_foot_problem(sub.id, key, attended.for_caregiver)
        return attended.reply

    def _care_or_weekly(self, sub: Subscriber, command: Command) -> str:
        if self.caregivers is None:
            return self._care().not_understood(sub, sub.phone or "", command.words)
        return caregiver_texts.handle_person(self.caregivers, self.caregivers.texts, self.store,
                                             sub, command)

    def _preferences(self) -> Preferences:
        return Preferences(self.store, self.replies, self._care(), self.now, self.text,
                           self.on_email_added)

    def _commands(self) -> dict[str, Callable[[Subscriber, Command], str]]:
        preferences = self._preferences()
        program = Program(self.store, self.replies, self._care(), self.now, self._hotspot)
        return {**preferences.handlers(), "care": self._care_or_weekly,
                "weekly": self._care_or_weekly, "frequency": program.frequency,
                "temp": lambda sub, command: program.temp(sub, command,
                                                          preferences.evening(sub))}

    def _hotspot(self, sub: Subscriber) -> None:
        """A TEMP that opened a hotspot flag: a same-day foot problem like one in words."""
        self.last = Heard(self.last.command, Triage(Level.SAME_DAY, "hotspot"), True)
        if self.on_foot_problem is not None:
            self.on_foot_problem(sub.id, f"alert:{int(self.now.timestamp() * 1000)}",
                                 "same_day:hotspot")

    def _care(self) -> Care:
        return Care(self.store, self.settings, self.replies, self.now, self.kept)

    # -- consent ---------------------------------------------------------------------------
    def _twilio_answers(self) -> bool:
        return self.settings.opt_out_handled_by == "twilio"

    def _stop(self, phone: str, sub: Subscriber | None, command: Command) -> str | None:
        # One atomic step (never a lost race with another writer of the record).
        before = None if sub is None else self.store.opt_out_sms(
            sub.id, ConsentEvent("sms", "opted_out", "sms", command.words,
                                 self._confirmation_version(command)))
        care = self._stop_care()
        if care and self.heard.top.level in ATTENTION:
            # The opt-out is recorded above; the clinic still hears about the rest.
            self._care().attend(sub, phone, self.heard, command.words)
        if before is None:  # unknown, or forgotten while the text arrived: still honoured
            self.store.suppression.add(phone=phone)
        elif before == "opted_out" and not care:
            return None  # already out: at most one confirmation
        if command.language != "en" or care:
            # Twilio knows only the English keywords, whole: nobody else confirms ALTO or
            # BAJA, or a STOP that also says something that needs an answer.
            return self.replies.render("stopped", program_name=self.settings.program_name,
                                       care=care)
        if self._twilio_answers() and command.provider_keyword:
            return None  # Twilio confirmed its own keyword already
        # The one confirmation: ours, since Twilio acts only on its single-word keywords
        # ("stop please", "no more texts" reach only us).
        return self.replies.render("stopped", program_name=self.settings.program_name)

    def _stop_care(self) -> str:
        """What the STOP confirmation must add: 988 for distress of any kind ("this is
        worthless", "no tiene sentido"), 911 for an emergency, the doctor for a problem."""
        care = _STOP_CARE.get(self.heard.top.level, "")
        if self.heard.distress and care != "911":
            return "988"
        return care

    def _confirmation_version(self, command: Command, reply_anyway: bool = False) -> str:
        """Which confirmation goes with this STOP or START, for the consent log: our reply's
        wording (Replies.version), or Twilio's own (its Opt-Out Management text)."""
        if command.kind == "stop" and command.language != "en":
            return self.replies.version("stopped")
        if self._twilio_answers() and command.provider_keyword and not reply_anyway:
            return "twilio:opt-out-management"
        return self.replies.version("stopped" if command.kind == "stop" else "started")

    def _start(self, phone: str, sub: Subscriber | None, command: Command) -> str | None:
        reply_anyway = command.kind == "join" or (sub is not None and sub.sms_status == "pending")
        if sub is None:
            self.store.suppression.remove(phone=phone)
            sub = enrol(self.store, self.settings, Enrolment(
                phone=phone, confirmed=True, source="sms", words=command.words,
                language=command.language,
                version=self._confirmation_version(command, reply_anyway)), self.now)
        elif sub.sms_status == "active":
            if answered := reconfirm.answer(self.store, sub, False, command.words, self.now):
                return self.replies.render("reconfirmed", resumed=answered == "resumed")
            return self.replies.render("already_active", time=format_clock(sub.send_time))
        else:
            self.store.suppression.remove(phone=phone)
            self.store.save(sub, sub.with_changes(sms_status="active",
                                                  channels=sub.channels | {"sms"}),
                            [ConsentEvent("sms", "opted_in", "sms", command.words,
                                          self._confirmation_version(command, reply_anyway))],
                            self.now)
        if self._twilio_answers() and not reply_anyway:
            return None
        return self.replies.render("started", program_name=self.settings.program_name,
                                   time=format_clock(sub.send_time),
                                   lighter=sub.frequency == "lighter")

    def _help(self, sub: Subscriber | None, command: Command) -> str | None:
        if self._twilio_answers() and command.provider_keyword:
            return None  # Twilio answers HELP and INFO itself in this mode: one answer
        when = format_clock(sub.send_time) if sub and sub.sms_status == "active" else ""
        return self.replies.render("help", program_name=self.settings.program_name, when=when,
                                   support=self.settings.support_contact,
                                   lighter=sub is not None and sub.frequency == "lighter")
