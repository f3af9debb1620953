"""Where one message's claim and outcome are kept, behind one interface (the send path's Ledger):
a field of a person's night record (the nightly and weekly messages: storage/nights.py), a key
of their caregiver-texts hash (storage/caregivers.py) or a field of an owner's sends hash (the
check-in, the re-confirmation, the care team's email: storage/sends.py). Each ledger only
calls its structure's owning module; the send path (app/sending/send_path.py) never sees a key, a
hash or a byte.

A ledger is bound to one message (whose, which record field or text key): claim it, record it
final, release it for a retry (with the attempts the provider may have), note attempts, and,
for channels that cannot be asked afterwards, the attempt that reached DATA.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

import redis

from reminders.storage import caregivers, nights, sends
from reminders.storage.consent_log import ConsentEvent
from reminders.storage.nights import Claim, ClaimOutcome


class Ledger(Protocol):
    subscriber_id: str
    name: str  # what logs call the message: its record field or text key

    def claim(self, now: datetime, lease_seconds: float) -> Claim: ...

    def finish(self, state: str, provider_id: str = "", status: str = "", error: str = "",
               reason: str = "") -> bool: ...

    def release(self, error: str, uncertain: str | None = None,
                not_before: float | None = None) -> None: ...

    def drop(self) -> None: ...

    def note_attempts(self, attempts: str) -> None: ...

    def data_attempt(self) -> tuple[str, str]: ...

    def record_data_attempt(self, message_id: str, date_header: str, at: float) -> None: ...


_OUTCOMES = {outcome.value: outcome for outcome in ClaimOutcome}


def _claim(found: tuple[str, str]) -> Claim:
    """A hash ledger's (outcome, detail) from lua/care_claim.lua as the send path's Claim."""
    outcome, detail = found
    return Claim(_OUTCOMES[outcome], detail)


def _given(**values: str) -> dict[str, str]:
    """The outcome fields that were given: an empty one is not written."""
    return {name: value for name, value in values.items() if value}


@dataclass
class NightLedger:
    """Field `name` ("sms", "email", "weekly", "weekly_email") of one person's night record.

    `window`: the evening's attempt window (a claim from a Redis restarted within it is
    `restarted`); `settle`: recording this message settles the evening in the in-flight set;
    `index`: a sent message's id goes into the message-id index (status callbacks)."""

    client: redis.Redis
    subscriber_id: str
    local_date: date
    name: str
    window: tuple[datetime, datetime] | None = None
    settle: bool = False
    index: bool = False

    def claim(self, now: datetime, lease_seconds: float) -> Claim:
        return nights.claim(self.client, self.subscriber_id, self.local_date, self.name, now,
                            lease_seconds, self.window)

    def finish(self, state: str, provider_id: str = "", status: str = "", error: str = "",
               reason: str = "") -> bool:
        fields = _given(id=provider_id, status=status, error=error, reason=reason)
        return nights.finish(self.client, self.subscriber_id, self.local_date, self.name,
                             state, settle=self.settle,
                             message_index=provider_id if self.index and state == "sent"
                             else None, **fields)

    def release(self, error: str, uncertain: str | None = None,
                not_before: float | None = None) -> None:
        nights.release_for_retry(self.client, self.subscriber_id, self.local_date, self.name,
                                 error, uncertain, not_before)

    def drop(self) -> None:
        self.release("withdrawn")

    def note_attempts(self, attempts: str) -> None:
        nights.note_attempts(self.client, self.subscriber_id, self.local_date, self.name,
                             attempts)

    def data_attempt(self) -> tuple[str, str]:
        return nights.email_attempt(self.client, self.subscriber_id, self.local_date,
                                    self.name)

    def record_data_attempt(self, message_id: str, date_header: str, at: float) -> None:
        nights.record_email_attempt(self.client, self.subscriber_id, self.local_date,
                                    message_id, date_header, at, self.name)


@dataclass
class CareLedger:
    """Key `name` ("alert:<ms>", "week:2026-W49") of the person's caregiver-texts hash;
    `sent_event` goes into the consent log with the sent record, in one step; `index`: a sent
    message's id goes into the message-id index (status callbacks); `window`: the text's
    attempt window (a claim from a Redis restarted within it is `restarted`, as a night's)."""

    client: redis.Redis
    subscriber_id: str
    name: str
    sent_event: ConsentEvent | None = None
    index: bool = False
    window: tuple[datetime, datetime] | None = None

    def claim(self, now: datetime, lease_seconds: float) -> Claim:
        window = (None if self.window is None
                  else (self.window[0].timestamp(), self.window[1].timestamp()))
        return _claim(caregivers.claim_text(self.client, self.subscriber_id, self.name,
                                            now.timestamp(), lease_seconds, window))

    def finish(self, state: str, provider_id: str = "", status: str = "", error: str = "",
               reason: str = "") -> bool:
        fields = _given(status=status, error=error, reason=reason)
        sent = state == "sent"
        caregivers.finish_text(self.client, self.subscriber_id, self.name, state, provider_id,
                               self.sent_event if sent else None, self.index and sent,
                               **fields)
        return True

    def release(self, error: str, uncertain: str | None = None,
                not_before: float | None = None) -> None:
        caregivers.retry_text(self.client, self.subscriber_id, self.name, error, uncertain,
                              not_before)

    def drop(self) -> None:
        caregivers.release_text(self.client, self.subscriber_id, self.name)

    def note_attempts(self, attempts: str) -> None:
        caregivers.note_text_attempts(self.client, self.subscriber_id, self.name, attempts)

    def data_attempt(self) -> tuple[str, str]:
        return caregivers.text_data_attempt(self.client, self.subscriber_id, self.name)

    def record_data_attempt(self, message_id: str, date_header: str, at: float) -> None:
        caregivers.record_text_data_attempt(self.client, self.subscriber_id, self.name,
                                            message_id, date_header, at)


@dataclass
class SendsLedger:
    """Field `name` ("checkin:<stretch>", "reconfirm:2026") of an owner's sends hash
    (storage/sends.py); `index`: a sent message's id goes into the message-id index."""

    client: redis.Redis
    subscriber_id: str  # the owner: a person, or "review-<item>" for the care team's email
    name: str
    index: bool = False

    def claim(self, now: datetime, lease_seconds: float) -> Claim:
        return _claim(sends.claim(self.client, self.subscriber_id, self.name,
                                  now.timestamp(), lease_seconds))

    def finish(self, state: str, provider_id: str = "", status: str = "", error: str = "",
               reason: str = "") -> bool:
        fields = _given(status=status, error=error, reason=reason)
        sends.finish(self.client, self.subscriber_id, self.name, state, provider_id,
                     self.index and state == "sent", **fields)
        return True

    def release(self, error: str, uncertain: str | None = None,
                not_before: float | None = None) -> None:
        sends.retry(self.client, self.subscriber_id, self.name, error, uncertain, not_before)

    def drop(self) -> None:
        sends.release(self.client, self.subscriber_id, self.name)

    def note_attempts(self, attempts: str) -> None:
        sends.note_attempts(self.client, self.subscriber_id, self.name, attempts)

    def data_attempt(self) -> tuple[str, str]:
        return sends.data_attempt(self.client, self.subscriber_id, self.name)

    def record_data_attempt(self, message_id: str, date_header: str, at: float) -> None:
        sends.record_data_attempt(self.client, self.subscriber_id, self.name, message_id,
                                  date_header, at)
