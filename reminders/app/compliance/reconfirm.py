"""The yearly re-confirmation: "Still want your nightly foot-care texts? Reply YES within 14 days"
to every person (and every active caregiver) whose last yes is a year old.

Why: about 35 million US numbers are disconnected each year and many are given to someone
else; a yearly yes keeps consent true, and a stranger's silence stops the texts.

- Asked exactly once per person (and caregiver) and year: the `reconfirm` and `care_reconfirm`
  kinds (domain/kinds.py), keyed (who, year), go through the one send path (sending/send_path.py:
  pacing, the claim in storage/sends.py, consent read again after it, the look-up after a lost
  answer, status callbacks). The year's ask (storage/reconfirm.py) is "asking" from before the
  send until it is known to have gone ("asked"): a run that finds it "asking" (a crash, a lost
  answer) goes on with the same message, which the send path finds rather than sends twice. A
  send refused for a passing reason waits for the next run; one with no slot in time, or
  withdrawn (STOP meanwhile), is given back.
- No YES within ANSWER_DAYS: the texts are paused, not stopped (no opt-out is recorded, the
  number is not suppressed): a person's record gets paused_until = PAUSED_UNTIL_ANSWER; a
  caregiver's consent goes back to waiting for their YES. Either way one review item goes to
  the inbox (level "routine", category "reconfirm_no_answer": the hook for the review screens).
- YES (or START) answers it: "reconfirmed" in the consent log; a paused person starts again.

Asked only while it is inside the recipient's send window in the person's time zone
(SEND_WINDOW, STATE_WINDOWS by the recipient's area code): `run` is the one entry, `reminders
reconfirm`, or the beat's hourly `reminders.reconfirm` (every zone's evening is reached). Two
runs at once are safe: each ask, each pause, is claimed once (storage/reconfirm.py).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from reminders.app.people.caregivers import Caregivers
from reminders.app.sending.retry import RetryLater
from reminders.app.sending.send_path import Outgoing, SendPath
from reminders.domain import channels
from reminders.domain.gsm import count_segments
from reminders.domain.kinds import CARE_RECONFIRM, RECONFIRM
from reminders.domain.subscriber import DECODE_ERRORS, Subscriber, now_iso
from reminders.domain.windows import DEFAULT_WINDOWS, Windows
from reminders.messages.replies import Replies
from reminders.storage import caregivers, inbox, reconfirm
from reminders.storage.consent_log import ConsentEvent
from reminders.storage.subscribers import Store

log = logging.getLogger(__name__)

YEAR = timedelta(days=365)
ANSWER_DAYS = 14
PAUSED_UNTIL_ANSWER = date(9999, 12, 31)  # "until they answer": later than any evening
PERSON_YES = frozenset({"confirmed", "opted_in", "reconfirmed"})
CAREGIVER_YES = frozenset({"caregiver_yes", "caregiver_reconfirmed"})
PACING_WAIT_SECONDS = 600.0  # the most an ask waits for a sending slot


@dataclass
class Outcome:
    asked: list[str] = field(default_factory=list)  # "<who>" keys (storage/reconfirm.who)
    paused: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


@dataclass
class Reconfirmations:
    store: Store
    path: SendPath
    replies: Replies
    program_name: str
    windows: Windows = DEFAULT_WINDOWS

    def run(self, now: datetime) -> Outcome:
        """Ask everyone due, then pause everyone whose 14 days passed without a YES."""
        outcome = Outcome()
        for sub in self.store.all(unreadable=[]):  # an unreadable record is skipped
            if sub.phone and sub.sms_status == "active":
                self._ask_if_due(sub, False, now, outcome)
                link = self.store.caregivers.read(sub.id)
                if link is not None and link.active:
                    self._ask_if_due(sub, True, now, outcome)
        for year in (now.year - 1, now.year):
            for person, (state, since) in self.store.reconfirm.asked(year).items():
                # Only a text that went out ("asked"): one whose send never finished
                # ("asking", a crash) pauses nobody.
                if state == "asked" and now.timestamp() - since >= ANSWER_DAYS * 86400:
                    self._pause(year, person, now, outcome)
        return outcome

    def _ask_if_due(self, sub: Subscriber, caregiver: bool, now: datetime, outcome: Outcome
                    ) -> None:
        last = last_yes(self.store, sub, caregiver)
        if last and now - last < YEAR:
            return
        who = reconfirm.who(sub.id, caregiver)
        this_year = self.store.reconfirm.read(now.year, who)
        if this_year is not None and this_year[0] != "asking":
            return  # asked this year already ("asking": its send is unfinished, go on with it)
        before = self.store.reconfirm.read(now.year - 1, who)
        if before is not None and now.timestamp() - before[1] < YEAR.total_seconds():
            return  # asked last December: not again within the year
        link = self.store.caregivers.read(sub.id) if caregiver else None
        phone = link.phone if link is not None else sub.phone or ""
        try:
            local = now.astimezone(ZoneInfo(sub.timezone)).time()
        except DECODE_ERRORS:
            return  # a record whose zone cannot be read: the dispatcher skips it too
        if local not in self.windows.for_phone(phone):
            return  # not now: a later run, inside their evening, asks
        if this_year is None and not self.store.reconfirm.claim(now.year, who, now.timestamp()):
            return
        self._send(sub, caregiver, who, phone, now, outcome)

    def _send(self, sub: Subscriber, caregiver: bool, who: str, phone: str, now: datetime,
              outcome: Outcome) -> None:
        said = self.replies.in_language(sub.language)
        template = "reconfirm_ask_caregiver" if caregiver else "reconfirm_ask"
        body = (said.render(template, program_name=self.program_name,
                            person=(sub.name.split() or ["them"])[0]) if caregiver
                else said.render(template, program_name=self.program_name))
        kind = CARE_RECONFIRM if caregiver else RECONFIRM
        ledger = self.store.ledgers.sends(sub.id, f"{kind.name}:{now.year}",
                                          index=channels.get("sms").status_callbacks)

        def still_allowed() -> bool:
            # Read again after the claim: a STOP (or a new number) while it waited wins.
            if caregiver:
                link = self.store.caregivers.read(sub.id)
                return link is not None and link.active and link.phone == phone
            fresh = self.store.get(sub.id)
            return fresh is not None and fresh.sms_status == "active" and fresh.phone == phone

        out = Outgoing(kind, "sms", sub, phone, ledger, body, count_segments(body).segments,
                       deadline=now + timedelta(seconds=PACING_WAIT_SECONDS),
                       still_allowed=still_allowed,
                       # a caregiver's refused number concerns the link, not the person
                       on_permanent=(lambda exc: None) if caregiver else None)
        try:
            sent = self.path.send(out, now)
        except RetryLater as exc:
            # kept "asking": the next run goes on with this message (and looks it up first)
            outcome.problems.append(f"{who}: not sent yet ({exc.reason}); the next run goes on")
            return
        if sent in ("missed", "already missed", "inactive"):
            if sent != "inactive":
                ledger.drop()  # no slot in time: asked afresh on a later run
            self.store.reconfirm.release(now.year, who)
            outcome.problems.append(f"{who}: not sent ({sent}); asked on a later run")
            return
        if sent.endswith("failed"):  # a number that cannot get texts: nothing to wait for
            self.store.reconfirm.settle(now.year, who, "failed", now.timestamp())
            outcome.problems.append(f"{who}: not sent (refused by the provider)")
            return
        # sent now, or by an earlier attempt whose answer (or whose "asked") was lost: the
        # one run that settles the ask records it
        if not self.store.reconfirm.settle(now.year, who, "asked", now.timestamp()):
            return
        self.store.consent_log.record(sub.id, ConsentEvent(
            "caregiver" if caregiver else "sms", "reconfirm_sent", "service", "",
            said.version(template)))
        outcome.asked.append(who)

    def _pause(self, year: int, who: str, now: datetime, outcome: Outcome) -> None:
        caregiver = who.startswith("cg:")
        # Once: of two runs that both find the 14 days over, one pauses and files the item.
        if not self.store.reconfirm.settle(year, who, "paused", now.timestamp(),
                                          from_state="asked"):
            return
        sub = self.store.get(who.removeprefix("cg:"))
        if sub is None or (not caregiver and sub.sms_status != "active"):
            return  # forgotten or stopped meanwhile: nothing to pause
        event = ConsentEvent("caregiver" if caregiver else "sms", "reconfirm_no_answer",
                             "service", f"no YES within {ANSWER_DAYS} days")
        phone = sub.phone or ""
        if caregiver:
            link = self.store.caregivers.read(sub.id)
            if link is None or not link.active:
                return  # ended meanwhile (STOP, CARE OFF, removed)
            phone = link.phone
            self.store.caregivers.set_consent(sub.id, "cg", caregivers.OFF, event, phone)
        else:
            self.store.save(sub, sub.with_changes(paused_until=PAUSED_UNTIL_ANSWER), [event],
                            now)
        self.store.inbox.add(inbox.Item(
            phone=phone, subscriber=sub.id, at=now_iso(now), text="(no answer to the yearly "
            "re-confirmation: texts paused)", level="routine", category="reconfirm_no_answer",
            language=sub.language))
        outcome.paused.append(who)


def last_yes(store: Store, sub: Subscriber, caregiver: bool) -> datetime | None:
    """The person's (or their caregiver's) latest yes; else, for a person, when their program
    started (created_at: an import's consented_at)."""
    wanted = CAREGIVER_YES if caregiver else PERSON_YES
    times = [e.get("at", "") for e in store.consent_history(sub.id) if e.get("action") in wanted]
    latest = max(times, default="") or ("" if caregiver else sub.created_at)
    try:
        return datetime.fromisoformat(latest.replace("Z", "+00:00")) if latest else None
    except ValueError:
        return None


def answer(store: Store, sub: Subscriber, caregiver: bool, words: str, now: datetime
           ) -> str | None:
    """A YES to an open re-confirmation: "continued" or "resumed" (a paused person starts
    again); None when nothing was asked."""
    who = reconfirm.who(sub.id, caregiver)
    for year in (now.year, now.year - 1):
        found = store.reconfirm.read(year, who)
        if found is None or found[0] not in ("asking", "asked", "paused"):
            continue
        store.reconfirm.mark(year, who, "yes", now.timestamp())
        event = ConsentEvent("caregiver" if caregiver else "sms",
                             "caregiver_reconfirmed" if caregiver else "reconfirmed", "sms",
                             words)
        resumed = not caregiver and sub.paused_until == PAUSED_UNTIL_ANSWER
        if caregiver:
            store.consent_log.record(sub.id, event)
        else:
            store.save(sub, sub.with_changes(paused_until=None) if resumed else sub, [event],
                       now)
        return "resumed" if resumed or found[0] == "paused" else "continued"
    return None


def caregiver_answers(cg: Caregivers, phone: str, words: str) -> str | None:
    """YES from a caregiver's number: answers every open re-confirmation of its links. The
    reply when one of them was still active (a paused one, back to waiting for this YES, is
    answered by Caregivers.caregiver_agrees as any caregiver's YES is)."""
    reply = None
    for link in cg.links_of(phone):
        person = cg.store.get(link.subscriber_id)
        if person is None or answer(cg.store, person, True, words, cg.now) is None:
            continue
        if link.active:
            texts = cg.texts.in_language(person.language)
            reply = texts.care("caregiver_reconfirmed", program_name=cg.texts.program_name,
                               name=(person.name.split() or ["them"])[0])
    return reply
