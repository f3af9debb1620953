"""What a key pressed during the evening call does: the same code as the texts.

1 is the text DONE, 3 and a digit the text of that score (Inbound.handle, so a streak, the
night's score and a high-pain answer are exactly a text's); 2 opens a foot-problem flag at
level same-day with an inbox item saying "called about a foot problem, please call back" (the
flag and inbox code of a texted foot problem: care/flags.py, Care.keep), and the caller is told to
call their doctor today and 911 in an emergency; 9 says the evening again; 7 ends calls as a
text's STOP ends texts (voice_status opted_out, in the consent log). Each answer is TwiML
(messages/voice.py): the words said, then the call hangs up.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from reminders.app.care import flags
from reminders.app.care.foot_problems import Care
from reminders.app.replies.inbound import Inbound
from reminders.domain.subscriber import Subscriber
from reminders.domain.triage import Level, Triage
from reminders.messages import voice
from reminders.messages.render import Renderer
from reminders.messages.replies import Replies
from reminders.messages.voice import VoiceScripts
from reminders.settings import Settings
from reminders.storage.subscribers import ConsentEvent, Store

log = logging.getLogger(__name__)

# The flag's category and the inbox item's words for a keypad foot problem (no words heard).
CALLED_CATEGORY = "called"
CALLED_WORDS = "called about a foot problem, please call back"


@dataclass
class VoiceKeys:
    store: Store
    settings: Settings
    replies: Replies
    scripts: VoiceScripts
    renderer: Renderer
    inbound: Callable[[datetime], Inbound]  # the texts' code (wiring.Services.inbound)

    def pressed(self, sub: Subscriber, local_date: date, step: str, round_: int, digits: str,
                now: datetime) -> str:
        """The TwiML that answers `digits` pressed at `step` (menu | score) of the call's
        Gather number `round_` (the next Gather is round_ + 1)."""
        after = round_ + 1
        day = local_date.isoformat()
        language = sub.language
        if step == "score":
            if len(digits) != 1 or not digits.isdigit():
                return self.scripts.ask_score(sub, day, after)
            return self._as_text(sub, digits, now)
        if digits == voice.DONE:
            return self._as_text(sub, "DONE", now)
        if digits == voice.SCORE:
            return self.scripts.ask_score(sub, day, after)
        if digits == voice.FOOT_PROBLEM:
            self._foot_problem(sub, now)
            return self.scripts.closing(language, "foot_problem")
        if digits == voice.REPEAT:
            return self.scripts.evening(sub, self.renderer.select(sub, local_date), day,
                                        after)
        if digits == voice.STOP:
            self._stop_calls(sub, now)
            return self.scripts.closing(language, "stopped")
        return self.scripts.menu(sub, day, after)  # any other key: the menu again

    def _as_text(self, sub: Subscriber, words: str, now: datetime) -> str:
        assert sub.phone is not None  # a call went to it
        reply = self.inbound(now).handle(sub.phone, words)
        return self.scripts.closing(sub.language, *(r for r in (reply, "goodbye") if r))

    def _foot_problem(self, sub: Subscriber, now: datetime) -> None:
        fresh = self.store.get(sub.id) or sub
        flags.record(self.store, fresh, CALLED_CATEGORY, str(Level.SAME_DAY), CALLED_WORDS, now)
        care = Care(self.store, self.settings, self.replies.in_language(sub.language), now)
        care.keep(sub.phone or "", fresh, CALLED_WORDS, Triage(Level.SAME_DAY, CALLED_CATEGORY))
        log.warning("flag subscriber=%s level=same_day category=%s (keypad)", sub.id,
                    CALLED_CATEGORY)

    def _stop_calls(self, sub: Subscriber, now: datetime) -> None:
        fresh = self.store.get(sub.id) or sub
        if fresh.voice_status != "opted_out":
            self.store.save(fresh, fresh.with_changes(voice_status="opted_out"),
                            [ConsentEvent("voice", "opted_out", "call", "key 7")], now)
        log.info("voice opted out subscriber=%s (key during the call)", sub.id)
