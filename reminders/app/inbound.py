"""A text from a person: work out what they meant, change what they asked, say what happened.

Used by the signed webhook and by `reminders reply`. Returns the reply text, or None when
nothing should be said (Twilio already answered STOP/START, the person opted out, or the number
is sending too much). Consent changes are always recorded, whatever the rate limit says.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from reminders.app import care_inbound, email_consent
from reminders.app.care import Care
from reminders.app.caregiver import Caregivers
from reminders.app.preferences import Enrolment, enrol
from reminders.domain.keywords import Command, parse
from reminders.domain.schedule import next_send_after
from reminders.domain.subscriber import Subscriber
from reminders.domain.validation import (
    EARLIEST_SEND,
    LATEST_SEND,
    InvalidInput,
    format_clock,
    normalise_email,
    parse_send_time,
    parse_timezone,
)
from reminders.messages.replies import Replies
from reminders.settings import Settings
from reminders.storage import counters, limits, nights, suppression
from reminders.storage.client import Client
from reminders.storage.subscribers import ConsentEvent, Store

log = logging.getLogger(__name__)

# Replies per number per hour: enough for a person, too few for an auto-responder loop.
INBOUND_REPLIES_PER_HOUR = 20
# Texts sent after midnight but before this hour still belong to the evening before.
EVENING_ENDS = time(5, 0)
MAX_PAUSE_DAYS = 90
DEFAULT_PAUSE_DAYS = 7


@dataclass
class Inbound:
    store: Store
    redis: Client
    settings: Settings
    replies: Replies
    now: datetime
    # Called with the subscriber after EMAIL adds an address (sends the confirmation link).
    on_email_added: Callable[[Subscriber], object] | None = None
    # Caregiver links (CARE YES/OFF, a caregiver's YES and STOP) and WEEKLY ON/OFF; None: off.
    caregivers: Caregivers | None = None
    # Called with (subscriber id, alert key, their words) after a foot problem is reported:
    # hands the caregiver's alert to a worker (the webhook never waits on the provider).
    on_foot_problem: Callable[[str, str, str], object] | None = None
    # The text as it came (EMAIL reads the address from it, not from the normalised words).
    text: str = field(default="", init=False)

    def handle(self, phone: str, body: str) -> str | None:
        self.text = body
        command = parse(body)
        sub = self.store.find(phone)
        log.info("inbound subscriber=%s command=%s", sub.id if sub else "unknown", command.kind)
        # Answer in the person's language; a Spanish keyword (ALTO, AYUDA, UNIRME...) is
        # answered in Spanish whoever sends it (Twilio's own keyword replies are English-only).
        language = command.language if command.language != "en" or sub is None else sub.language
        self.replies = self.replies.in_language(language)
        counters.incr(self.redis, counters.inbound(command.kind))
        reply = self._dispatch(command, phone, sub)
        if reply is None or not self._may_reply(phone, command):
            return None
        return reply

    def _may_reply(self, phone: str, command: Command) -> bool:
        count = limits.count_reply(self.redis, phone)
        if count > INBOUND_REPLIES_PER_HOUR:
            log.warning("inbound rate-limited command=%s count=%s", command.kind, count)
            return False
        return True

    def _dispatch(self, command: Command, phone: str, sub: Subscriber | None) -> str | None:
        if self.caregivers is not None:
            handled = care_inbound.route(self.caregivers, command, phone, sub)
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
        if command.kind in ("start", "join"):
            return self._start(phone, sub, command)
        if command.kind == "help":
            return self._help(sub, command)
        if command.kind == "distress":
            log.warning("inbound distress subscriber=%s", sub.id if sub else "unknown")
            kind = self.replies.render("distress", support=self.settings.support_contact)
            if command.flag:  # "I give up, my toe is black": both answers, and the flag
                return f"{kind} {self._foot_problem(sub, command)}"
            return kind
        if command.kind == "flag":
            return self._foot_problem(sub, command)
        if sub is None:
            return self.replies.render("not_subscribed")
        if sub.sms_status == "opted_out":
            return None  # after STOP, nothing but the answer to START or HELP
        if sub.sms_status == "pending":
            return self.replies.render("confirm_first")
        handler = self._commands().get(command.kind)
        return handler(sub, command) if handler else self.replies.render("hint")

    def _foot_problem(self, sub: Subscriber | None, command: Command) -> str:
        reply = self._care().foot_problem(sub, command, self._evening(sub) if sub else None)
        if sub is not None and self.on_foot_problem is not None:
            # One alert per report: its key is the report's instant (ms).
            key = f"alert:{int(self.now.timestamp() * 1000)}"
            self.on_foot_problem(sub.id, key, command.words)
        return reply

    def _care_or_weekly(self, sub: Subscriber, command: Command) -> str:
        if self.caregivers is None:
            return self.replies.render("hint")
        return care_inbound.handle_person(self.caregivers, self.caregivers.texts, self.store,
                                          sub, command)

    def _commands(self) -> dict[str, Callable[[Subscriber, Command], str]]:
        return {"time": self._time, "tz": self._tz, "pause": self._pause,
                "resume": self._resume, "done": self._done, "score": self._score,
                "email": self._email, "massage": self._care().toggle,
                "heat": self._care().toggle, "care": self._care_or_weekly,
                "weekly": self._care_or_weekly, "language": self._language}

    def _care(self) -> Care:
        return Care(self.store, self.settings, self.replies, self.now)

    # -- consent ---------------------------------------------------------------------------
    def _twilio_answers(self) -> bool:
        return self.settings.opt_out_handled_by == "twilio"

    def _stop(self, phone: str, sub: Subscriber | None, command: Command) -> str | None:
        # One atomic step (never a lost race with another writer of the record).
        before = None if sub is None else self.store.opt_out_sms(
            sub.id, ConsentEvent("sms", "opted_out", "sms", command.words,
                                 self._confirmation_version(command)))
        if before is None:  # unknown, or forgotten while the text arrived: still honoured
            suppression.add(self.redis, phone=phone)
        elif before == "opted_out":
            return None  # already out: at most one confirmation
        if command.language != "en":
            # Twilio knows only the English keywords: nobody else confirms ALTO or BAJA.
            return self.replies.render("stopped", program_name=self.settings.program_name)
        if self._twilio_answers() and command.provider_keyword:
            return None  # Twilio confirmed its own keyword already
        # The one confirmation: ours, since Twilio acts only on its single-word keywords
        # ("stop please", "no more texts" reach only us).
        return self.replies.render("stopped", program_name=self.settings.program_name)

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
            suppression.remove(self.redis, phone=phone)
            sub = enrol(self.store, self.settings, Enrolment(
                phone=phone, confirmed=True, source="sms", words=command.words,
                language=command.language), self.now)
        elif sub.sms_status == "active":
            return self.replies.render("already_active", time=format_clock(sub.send_time))
        else:
            channel = sub.channel if sub.wants_sms else "both"
            suppression.remove(self.redis, phone=phone)
            self.store.save(sub, sub.with_changes(sms_status="active", channel=channel),
                            [ConsentEvent("sms", "opted_in", "sms", command.words,
                                          self._confirmation_version(command, reply_anyway))],
                            self.now)
        if self._twilio_answers() and not reply_anyway:
            return None
        return self.replies.render("started", program_name=self.settings.program_name,
                                   time=format_clock(sub.send_time))

    def _help(self, sub: Subscriber | None, command: Command) -> str | None:
        if self._twilio_answers() and command.provider_keyword:
            return None  # Twilio answers HELP and INFO itself in this mode: one answer
        when = format_clock(sub.send_time) if sub and sub.sms_status == "active" else ""
        return self.replies.render("help", program_name=self.settings.program_name, when=when,
                                   support=self.settings.support_contact)

    # -- preferences -----------------------------------------------------------------------
    def _time(self, sub: Subscriber, command: Command) -> str:
        try:
            new_time = parse_send_time(command.arg)
        except InvalidInput:
            return self.replies.render("time_invalid", earliest=format_clock(EARLIEST_SEND),
                                       latest=format_clock(LATEST_SEND))
        after = self.store.save(sub, sub.with_changes(send_time=new_time), [], self.now)
        tonight = self._local_today(after) == self._next_local_date(after)
        return self.replies.render("time_set", time=format_clock(new_time), tonight=tonight)

    def _tz(self, sub: Subscriber, command: Command) -> str:
        try:
            zone = parse_timezone(command.arg)
        except InvalidInput:
            return self.replies.render("tz_invalid")
        self.store.save(sub, sub.with_changes(timezone=zone), [], self.now)
        return self.replies.render("tz_set", zone=zone, time=format_clock(sub.send_time))

    def _pause(self, sub: Subscriber, command: Command) -> str:
        arg = command.arg or str(DEFAULT_PAUSE_DAYS)
        if not arg.isdigit() or not 1 <= int(arg) <= MAX_PAUSE_DAYS:
            return self.replies.render("pause_invalid")
        first = self._next_local_date(sub)
        until = first + timedelta(days=int(arg) - 1)
        self.store.save(sub, sub.with_changes(paused_until=until), [], self.now)
        return self.replies.render("paused", until=until)

    def _resume(self, sub: Subscriber, command: Command) -> str:
        self.store.save(sub, sub.with_changes(paused_until=None), [], self.now)
        return self.replies.render("resumed", time=format_clock(sub.send_time))

    def _done(self, sub: Subscriber, command: Command) -> str:
        evening = self._evening(sub)
        if sub.last_done == evening:
            streak = sub.streak
        elif sub.last_done == evening - timedelta(days=1):
            streak = sub.streak + 1
        else:
            streak = 1
        self.store.save(sub, sub.with_changes(streak=streak, last_done=evening), [], self.now)
        nights.note(self.redis, sub.id, evening, done="1")
        return self.replies.render("done", streak=streak)

    def _score(self, sub: Subscriber, command: Command) -> str:
        nights.note(self.redis, sub.id, self._evening(sub), score=command.arg)
        return self._care().score_reply(int(command.arg), command.words)

    def _email(self, sub: Subscriber, command: Command) -> str:
        if command.arg in ("off", "stop", "none", "no"):
            if sub.wants_email:
                after = sub.with_changes(channel="sms" if sub.phone else sub.channel)
                self.store.save(sub, after, [ConsentEvent("email", "unsubscribed", "sms",
                                                          command.words)], self.now)
            return self.replies.render("email_off")
        try:
            address = normalise_email(email_consent.address_from_text(self.text))
        except InvalidInput:
            return self.replies.render("email_invalid")
        reply, after = email_consent.add_by_text(self.store, sub, address, command.words,
                                                 self.now)
        if reply == "email_set" and self.on_email_added is not None:
            self.on_email_added(after)
        context: dict[str, dict[str, str]] = {
            "email_set": {"address": address}, "email_active": {"address": address},
            "email_wait": {"address": address},
            "email_suppressed": {"support": self.settings.support_contact}}
        return self.replies.render(reply, **context.get(reply, {}))

    def _language(self, sub: Subscriber, command: Command) -> str:
        """ESPAÑOL / ENGLISH: every text, reply and email from now on in that language (kept
        in the consent/audit log, as WEEKLY OFF is)."""
        if sub.language != command.arg:
            self.store.save(sub, sub.with_changes(language=command.arg),
                            [ConsentEvent("sms", f"language_{command.arg}", "sms",
                                          command.words)], self.now)
        return self.replies.in_language(command.arg).render("language_set")

    # -- local time helpers ----------------------------------------------------------------
    def _local_now(self, sub: Subscriber) -> datetime:
        return self.now.astimezone(ZoneInfo(sub.timezone))

    def _local_today(self, sub: Subscriber) -> date:
        return self._local_now(sub).date()

    def _evening(self, sub: Subscriber) -> date:
        """Which evening a DONE or a score belongs to (just after midnight: the one before)."""
        local = self._local_now(sub)
        return local.date() - timedelta(days=1) if local.time() < EVENING_ENDS else local.date()

    def _next_local_date(self, sub: Subscriber) -> date:
        return next_send_after(sub.send_time, ZoneInfo(sub.timezone), self.now).local_date
