"""Texts that concern a caregiver link, sorted out before the usual handling (inbound.py).

- YES (or START) from a number invited as a caregiver (or one that stopped caregiver texts):
  the caregiver's consent; the number is not enrolled as a subscriber by it. A number that is
  also a subscriber waiting for its own YES (or opted out) is started too, and gets its own
  welcome: that reply is the opt-in confirmation CTIA asks for.
- STOP from a caregiver's number: no more caregiver texts, then the usual STOP (a number that
  is also a subscriber is opted out of everything: see app/people/caregivers.py); with OPT_OUT_SCOPE
  `program` (domain/opt_out.py), a number that still has texts of its own stops only those.
- STOP from the person: their consent to caregiver texts ends too (a STOP asks for everything
  of ours to stop, texts about them included); START brings back their own texts only, CARE YES
  the caregiver's.
- CARE OFF from a caregiver's number: only the caregiver texts stop.
- CARE YES / CARE OFF from the person, WEEKLY ON / WEEKLY OFF: see handle_person.
"""

from __future__ import annotations

from dataclasses import dataclass

from reminders.app.compliance import reconfirm
from reminders.app.people.caregivers import Caregivers
from reminders.domain.keywords import Command
from reminders.domain.opt_out import SENDER
from reminders.domain.subscriber import Subscriber
from reminders.messages.weekly import WeeklyTexts
from reminders.storage.subscribers import ConsentEvent, Store


@dataclass(frozen=True)
class Handled:
    reply: str | None
    # The usual handling still follows (STOP, START: the number's own subscription, if any);
    # its reply, when it has one, wins.
    go_on: bool = False


def route(caregivers: Caregivers, command: Command, phone: str, sub: Subscriber | None,
          scope: str = SENDER) -> Handled | None:
    """What a caregiver's number's text does; None when it is not about a caregiver link.
    `scope`: how far a STOP reaches (domain/opt_out.py)."""
    if command.kind == "stop":
        own = sub is not None and sub.sms_status == "active"
        if scope == SENDER or not own:
            caregivers.caregiver_stops(phone, command.words)
        if sub is not None:
            caregivers.person_stops(sub, command.words)
        return Handled(None, go_on=True)
    if command.kind == "start" and (answered := reconfirm.caregiver_answers(
            caregivers, phone, command.words)):
        return Handled(answered)  # the yearly re-confirmation (app/compliance/reconfirm.py)
    if command.kind == "start" or (command.kind == "care" and command.arg == "on"
                                   and (sub is None or sub.sms_status != "active")):
        reply = caregivers.caregiver_agrees(phone, command.words)
        if reply is None:
            return None
        # A number that is also a subscriber waiting for its own YES, or back after a STOP:
        # its own texts start as well (and its welcome, the opt-in confirmation, is the reply).
        return Handled(reply, go_on=sub is not None and sub.sms_status in ("pending",
                                                                           "opted_out"))
    if command.kind == "care" and command.arg == "off" and caregivers.links_of(phone):
        caregivers.caregiver_stops(phone, command.words)
        if sub is not None and sub.sms_status == "active":
            caregivers.person_says(sub, False, command.words)  # their own link ends too
        return Handled(caregivers.stopped_reply(command.language))
    return None


def handle_person(caregivers: Caregivers, texts: WeeklyTexts, store: Store, sub: Subscriber,
                  command: Command) -> str:
    """CARE YES / CARE OFF and WEEKLY ON / WEEKLY OFF from an active subscriber."""
    on = command.arg == "on"
    if command.kind == "care":
        return caregivers.person_says(sub, on, command.words)
    if sub.weekly_ok != on:
        store.save(sub, sub.with_changes(weekly_ok=on),
                   [ConsentEvent("sms", f"weekly_{command.arg}", "sms", command.words)],
                   caregivers.now)
    return texts.in_language(sub.language).reply("weekly_set", on=on)
