"""The commands that change a person's own settings by text: TIME, TZ, PAUSE, RESUME, DONE, a
score, EMAIL, ESPAÑOL / ENGLISH, MASSAGE and HEAT (app/care/foot_problems.py), for
app/replies/inbound.py.

Each takes the subscriber and the parsed command and returns the reply; what changes is saved
through Store.save (with a consent/audit line where the change is a consent).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from reminders.app.care.foot_problems import Care
from reminders.app.people import email_consent
from reminders.domain.keywords import Command
from reminders.domain.schedule import next_send_after
from reminders.domain.subscriber import Subscriber
from reminders.domain.validation import (
    InvalidInput,
    OutsideWindow,
    format_clock,
    normalise_email,
    parse_send_time,
    parse_timezone,
)
from reminders.messages.replies import Replies
from reminders.storage.subscribers import ConsentEvent, Store

# Texts sent after midnight but before this hour still belong to the evening before.
EVENING_ENDS = time(5, 0)
MAX_PAUSE_DAYS = 90
DEFAULT_PAUSE_DAYS = 7


@dataclass
class Preferences:
    store: Store
    replies: Replies
    care: Care
    now: datetime
    text: str  # the text as it came (EMAIL reads the address from it)
    on_email_added: Callable[[Subscriber], object] | None = None

    def handlers(self) -> dict[str, Callable[[Subscriber, Command], str]]:
        return {"time": self._time, "tz": self._tz, "pause": self._pause,
                "resume": self._resume, "done": self.done, "score": self._score,
                "email": self._email, "massage": self.care.toggle,
                "heat": self.care.toggle, "language": self._language, "voice": self._voice}

    def _voice(self, sub: Subscriber, command: Command) -> str:
        """VOICE ON / OFF (LLAMADA SI / NO): their own choice of the evening call, and their
        prior express consent to an automated voice, in the consent log with their words."""
        on = command.arg == "on"
        state = "active" if on else "opted_out"
        if sub.voice_status != state or (on and "voice" not in sub.channels):
            chosen = sub.channels | {"voice"} if on else sub.channels
            event = ConsentEvent("voice", "opted_in" if on else "opted_out", "sms",
                                 command.words, self.replies.version("voice_set"))
            self.store.save(sub, sub.with_changes(channels=chosen, voice_status=state),
                            [event], self.now)
        return self.replies.render("voice_set", on=on)

    def _time(self, sub: Subscriber, command: Command) -> str:
        """TIME: a time inside the person's window (SEND_WINDOW, narrower for their area
        code); one outside is answered with the range they can choose, nothing changes."""
        window = self.care.settings.windows.for_phone(sub.phone)
        try:
            new_time = parse_send_time(command.arg, window)
        except InvalidInput as problem:
            return self.replies.render(
                "time_outside" if isinstance(problem, OutsideWindow) else "time_invalid",
                earliest=format_clock(window.start), latest=format_clock(window.end))
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

    def done(self, sub: Subscriber, command: Command) -> str:
        evening = self.evening(sub)
        if sub.last_done == evening:
            streak = sub.streak
        elif sub.last_done == evening - timedelta(days=1):
            streak = sub.streak + 1
        else:
            streak = 1
        self.store.save(sub, sub.with_changes(streak=streak, last_done=evening), [], self.now)
        self.store.nights.note(sub.id, evening, done="1")
        return self.replies.render("done", streak=streak)

    def _score(self, sub: Subscriber, command: Command) -> str:
        evening = self.evening(sub)
        self.store.nights.note(sub.id, evening, score=command.arg)
        return self.care.score_reply_for(sub, int(command.arg), command.words, evening)

    def _email(self, sub: Subscriber, command: Command) -> str:
        if command.arg in ("off", "stop", "none", "no"):
            if sub.wants_email:
                after = sub.with_changes(
                    channels=sub.channels - {"email"} if sub.phone else sub.channels)
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
            "email_suppressed": {"support": self.care.settings.support_contact}}
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

    def evening(self, sub: Subscriber) -> date:
        """Which evening a DONE or a score belongs to (just after midnight: the one before)."""
        local = self._local_now(sub)
        return local.date() - timedelta(days=1) if local.time() < EVENING_ENDS else local.date()

    def _next_local_date(self, sub: Subscriber) -> date:
        return next_send_after(sub.send_time, ZoneInfo(sub.timezone), self.now).local_date
