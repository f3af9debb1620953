"""Audit lines for what operators do (console and operator commands), in the consent/audit log.

A change to a person goes in with that change (Store.save's events, indexed under them: see
`about_person`); an action about nobody in particular (a login, an import, an account) is an
unindexed entry of the same stream, so `consent-export` has both, in time order.
"""

from __future__ import annotations

from reminders.storage.consent_log import ConsentEvent
from reminders.storage.subscribers import Store

CHANNEL = "console"  # the channel field of operator actions: not a person's sms or email


def about_person(operator: str, action: str, detail: str) -> ConsentEvent:
    """The event to save with a change an operator made to a person."""
    return ConsentEvent(CHANNEL, action, "console", words(operator, detail))


def record(store: Store, operator: str, action: str, detail: str) -> None:
    store.consent_log.record_unindexed(ConsentEvent(CHANNEL, action, "console",
                                                    words(operator, detail)))


def words(operator: str, detail: str) -> str:
    """Who did it first, so the 160-character cut never loses the operator."""
    return f"{operator}: {detail}" if detail else operator
