"""What people tell us about their feet, their body and their pain, and the answers that keep
them safe.

Used by replies/inbound.py for: a text the triage (domain/triage.py) finds needs attention (one
reply at its level, in the person's language; a flag for a foot problem, which keeps massage, heat,
walking and standing out of the evenings until an operator closes it; an inbox item for a person to
read), the routine answers (soaking, heating pads, ...), texts nobody understood (the safety net,
and an inbox item), a high symptom score (pointed to their care team, or to urgent care when the
words say so), and their own contraindications (MASSAGE OFF/ON, HEAT OFF/ON, recorded in the
consent/audit log).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from reminders.app.care import flags
from reminders.domain.keywords import URGENT_PAIN, Command
from reminders.domain.subscriber import Subscriber, now_iso
from reminders.domain.triage import Assessment, Level, Triage, foot_problem
from reminders.domain.worsening import BASELINE_EVENINGS, worsening
from reminders.messages.replies import Replies
from reminders.settings import Settings
from reminders.storage import counters, inbox
from reminders.storage.subscribers import ConsentEvent, Store

log = logging.getLogger(__name__)

# A nightly score from here up is high pain: the reply points to their care team.
HIGH_PAIN_SCORE = 8
# Answered from the triage before any command, and kept in the inbox for a person.
ATTENTION = frozenset({Level.EMERGENCY, Level.CRISIS, Level.URGENT, Level.SAME_DAY, Level.SOON})
# What a caregiver hears about (never a crisis: that goes to the care team only).
CAREGIVER_LEVELS = frozenset({"emergency", "urgent", "same_day"})
# From this local hour a caregiver alert says "tonight", before it "today".
EVENING_STARTS_HOUR = 17


@dataclass(frozen=True)
class Attended:
    reply: str
    flagged: bool
    # "<level>:<category>" for the caregiver's alert, or "" when they are not to hear of it.
    for_caregiver: str


@dataclass(frozen=True)
class Kept:
    """A text kept for a person: replies/inbound.py opens its review item once the reply is
    known."""

    kind: str  # text | flag | crisis | worsening (app/care/review.KINDS)
    phone: str
    subscriber: str
    words: str
    found: Triage


@dataclass
class Care:
    store: Store
    settings: Settings
    replies: Replies
    now: datetime
    # What this text left for a person (shared with the inbound handler that made us).
    kept: list[Kept] = field(default_factory=list)

    def attend(self, sub: Subscriber | None, phone: str, heard: Assessment, words: str
               ) -> Attended:
        """A text at an ATTENTION level: the one reply (the most urgent finding's, with the 988
        line or the foot advice folded in), a flag for a foot problem (whatever the person's
        SMS state: the clinic should hear about it even after a STOP), an inbox item."""
        top = heard.top
        foot = foot_problem(heard)
        flagged = sub is not None and foot is not None
        if sub is not None and foot is not None:
            flags.record(self.store, sub, foot.category, foot.level, words, self.now)
            log.warning("flag subscriber=%s level=%s category=%s", sub.id, foot.level,
                        foot.category)
        kind = "flag" if flagged else "crisis" if top.level == Level.CRISIS else "text"
        self.keep(phone, sub, words, top, kind)
        reply = self.replies.render(
            "triage", level=top.level, category=top.category,
            also_crisis=top.level != Level.CRISIS and heard.has(Level.CRISIS),
            also_foot=top.level == Level.CRISIS and foot is not None,
            support=self.settings.support_contact)
        told = top if top.level in CAREGIVER_LEVELS else foot
        return Attended(reply, flagged, f"{told.level}:{told.category}" if told else "")

    def routine(self, sub: Subscriber | None, phone: str, heard: Assessment, words: str) -> str:
        """The library's answer; a care question it cannot answer also goes to the inbox."""
        if heard.top.category == "question":
            self.keep(phone, sub, words, heard.top)
        return self.replies.render("triage", level=Level.ROUTINE, category=heard.top.category)

    def not_understood(self, sub: Subscriber | None, phone: str, words: str) -> str:
        """The safety net: never only "didn't understand"; a person reads the text later."""
        self.keep(phone, sub, words, Triage(Level.NONE, "not_understood"))
        return self.replies.render("safety_net")

    def keep(self, phone: str, sub: Subscriber | None, words: str, found: Triage,
             kind: str = "text") -> None:
        self.kept.append(Kept(kind, phone, sub.id if sub else "", words, found))
        self.store.inbox.add(inbox.Item(
            phone=phone, subscriber=sub.id if sub else "", at=now_iso(self.now), text=words,
            level=str(found.level), category=found.category, language=self.replies.language))
        self.store.counters.incr(counters.triage(str(found.level)))

    def score_reply_for(self, sub: Subscriber, score: int, words: str, evening: date) -> str:
        """Tonight's score: pain that needs care now says so first; a worsening score (4+ on
        3 evenings in a row, or 3 above their own 14-evening median: domain/worsening.py)
        opens a review item and gets the coaching reply; else the usual answer."""
        if score >= HIGH_PAIN_SCORE and URGENT_PAIN.search(words.lower()):
            return self.score_reply(score, words)
        days = [evening - timedelta(days=n) for n in range(BASELINE_EVENINGS, 0, -1)]
        earlier = [int(r["score"]) if r.get("score", "").isdigit() else None
                   for r in self.store.nights.read_many(sub.id, days)]
        why = worsening(score, earlier)
        if not why:
            return self.score_reply(score, words)
        log.info("worsening score subscriber=%s score=%s why=%s", sub.id, score, why)
        self.keep(sub.phone or "", sub, words, Triage(Level.SOON, f"worsening_{why}"),
                  "worsening")
        return self.replies.render("worsening", score=score)

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
