"""What people tell us about their feet and their pain, and the answers that keep them safe.

Used by inbound.py for: a foot problem (red flag: recorded, answered with the safety reply,
massage and heat left out of the next evenings), a high symptom score (pointed to their care
team, or to urgent care when the words say so), and their own contraindications (MASSAGE OFF/ON,
HEAT OFF/ON, recorded in the consent/audit log).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime

from reminders.app import flags
from reminders.domain.keywords import URGENT_PAIN, Command
from reminders.domain.subscriber import Subscriber
from reminders.messages.replies import Replies
from reminders.settings import Settings
from reminders.storage.subscribers import ConsentEvent, Store

log = logging.getLogger(__name__)

# A nightly score from here up is high pain: the reply points to their care team.
HIGH_PAIN_SCORE = 8


@dataclass
class Care:
    store: Store
    settings: Settings
    replies: Replies
    now: datetime

    def foot_problem(self, sub: Subscriber | None, command: Command, evening: date | None
                     ) -> str:
        """The safety reply, and for a subscriber an open flag (whatever their SMS state: the
        clinic should hear about a foot problem even from someone who stopped the texts)."""
        if sub is not None and evening is not None:
            flags.record(self.store, sub, command.flag, command.words, evening, self.now)
            log.warning("red flag subscriber=%s category=%s", sub.id, command.flag)
        return self.replies.render("red_flag", category=command.flag)

    def score_reply(self, score: int, words: str) -> str:
        if score < HIGH_PAIN_SCORE:
            return self.replies.render("score_saved", score=score)
        urgent = bool(URGENT_PAIN.search(words.lower()))
        return self.replies.render("high_pain", score=score, urgent=urgent,
                                   support=self.settings.support_contact)

    def toggle(self, sub: Subscriber, command: Command) -> str:
        """MASSAGE OFF/ON, HEAT OFF/ON: their own contraindications, in the audit log."""
        on = command.arg == "on"
        field = "massage_ok" if command.kind == "massage" else "heat_ok"
        if getattr(sub, field) != on:
            event = ConsentEvent("sms", f"{command.kind}_{command.arg}", "sms", command.words)
            chosen = {"massage_set": True} if field == "massage_ok" else {}
            self.store.save(sub, sub.with_changes(**{field: on}, **chosen), [event], self.now)
        return self.replies.render(f"{command.kind}_set", on=on)
