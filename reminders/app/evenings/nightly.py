"""The nightly kind's flow: one person's reminder for one local evening, at most once per
channel.

Tasks hand us ids, never objects: we reload the subscriber, check the date, the late limit and
each channel's skip rules, render the evening's words, and hand each channel's message to the
one send path (sending/send_path.py), which claims the night's record before any send, paces, looks
a lost answer up at the provider (or resends the same Message-ID) and records the outcome; the
evening's last channel settles it. On an evening the weekly summary follows (after_evening:
weekly.py), the evening is settled only after the summary, so a crash that takes the summary's
record leaves the evening in flight: the dispatcher hands it out again and the summary's claim
looks the lost text up at the provider.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from typing import Protocol

from reminders.app.sending import guards, message_ids
from reminders.app.sending.retry import Outcome, RetryLater, merge
from reminders.app.sending.send_path import Outgoing, SendPath
from reminders.domain import channels, policies
from reminders.domain.channels import Lookup
from reminders.domain.content import Selection
from reminders.domain.kinds import NIGHTLY
from reminders.domain.schedule import send_instant
from reminders.domain.subscriber import Subscriber
from reminders.messages.email import EmailComposer
from reminders.messages.render import Renderer

log = logging.getLogger(__name__)


class AfterEvening(Protocol):
    """What follows some evenings' usual texts (the weekly summary: app/evenings/weekly.py)."""

    def follows(self, local_date: date) -> bool:
        """Whether that evening has anything to send after its usual texts."""

    def after_evening(self, sub: Subscriber, local_date: date, now: datetime
                      ) -> dict[str, str]:
        """Send it (each message at most once); what happened, per record field."""


@dataclass(frozen=True)
class Rendered:
    """A message's words on one channel, as the send path takes them."""

    body: str = ""
    segments: int = 1
    compose: Callable[[datetime], EmailMessage] | None = None
    message_id: str = ""


class Sender:
    """The nightly kind's flow: which channels an evening goes out on, its late and skip
    rules, the words; each message then takes the one send path (sending/send_path.py)."""

    def __init__(self, path: SendPath, renderer: Renderer, composer: EmailComposer,
                 late_limit: timedelta) -> None:
        self.path = path
        self.store = path.store
        self.nights = path.store.nights
        self.renderer = renderer
        self.composer = composer
        self.late_limit = late_limit
        # What renders tonight's message on each channel: a new channel adds its entry here
        # (and its templates); nothing else in this flow names a channel.
        self.render: dict[str, Callable[[Subscriber, Selection, date], Rendered]] = {
            "sms": self._sms, "email": self._email}
        # Runs once an evening's usual texts are recorded (the weekly summary:
        # app/evenings/weekly.py); what it sent is added to the outcome. Set by wiring.
        self.after_evening: AfterEvening | None = None

    def deliver(self, subscriber_id: str, local_date: date, now: datetime,
                ignore_late: bool = False, not_after: datetime | None = None) -> Outcome:
        """Send the evening's reminder on each channel that is due.

        Nothing is sent after `not_after` (default: the evening's instant plus the late limit);
        `ignore_late` (the operator's send-now) lifts both that and the check on the date.
        """
        outcome = Outcome(subscriber_id, local_date)
        try:
            found = guards.load(self.store, subscriber_id)
        except guards.Unreadable as exc:
            guards.skip_unreadable_evening(self.store, exc, local_date, now)
            outcome.channels["record"] = "unreadable"
            return outcome
        if found is None:
            log.info("send skip subscriber=%s date=%s reason=forgotten", subscriber_id, local_date)
            self.nights.settle(subscriber_id, local_date)
            return outcome
        sub, tz = found
        if not ignore_late and (why := policies.date_problem(local_date, now, tz)):
            guards.reject_date(self.store, sub.id, local_date, why)
            self.nights.settle(sub.id, local_date)
            outcome.channels["task"] = "rejected"
            return outcome
        due = send_instant(local_date, sub.send_time, tz)
        deadline = None if ignore_late else policies.deadline(local_date, due, tz,
                                                             self.late_limit, not_after)
        if deadline is not None and now > deadline:
            log.warning("send missed subscriber=%s date=%s reason=late lag=%.0fs", sub.id,
                        local_date, (now - due).total_seconds())
            self.nights.record_missed(sub, local_date, reason="late")
            outcome.channels.update(dict.fromkeys(policies.wanted(sub) or ["record"], "missed"))
            self.nights.settle(sub.id, local_date)
            return outcome
        retry: RetryLater | None = None
        wanted = policies.wanted(sub)
        after = self._follows(local_date) if wanted else None
        for index, channel in enumerate(wanted):
            # The evening's last channel settles it in the same round trip as its record,
            # unless an earlier channel still has to be retried or more follows it.
            settle = index == len(wanted) - 1 and retry is None and after is None
            started, failure = time.monotonic(), None
            try:
                outcome.channels[channel] = self._deliver(sub, channel, local_date, now,
                                                          settle, deadline)
            except RetryLater as exc:
                # Let the other channel go out now; the task retries only what is left, no
                # earlier than either channel was told to wait.
                outcome.channels[channel] = "retry"
                failure, retry = exc, merge(retry, exc)
            self._log_attempt(sub, channel, local_date, outcome.channels[channel],
                              time.monotonic() - started, failure)
        if retry is not None:
            retry.outcome = outcome
            raise retry
        if after is not None:
            outcome.channels.update(after.after_evening(sub, local_date, now))
        if after is not None or not wanted or outcome.channels[wanted[-1]].startswith("already"):
            # Nothing recorded settled it. After what follows only now: had a Redis crash
            # taken that message's record (its last second), it took this settle too (the AOF
            # loses a suffix), and the sweep hands the evening out again. A RetryLater above
            # leaves the evening in flight as well.
            self.nights.settle(sub.id, local_date)
        return outcome

    def _follows(self, local_date: date) -> AfterEvening | None:
        """What follows that evening's usual texts, if anything does."""
        after = self.after_evening
        return after if after is not None and after.follows(local_date) else None

    def _log_attempt(self, sub: Subscriber, channel: str, local_date: date, result: str,
                     seconds: float, retry: RetryLater | None) -> None:
        """One structured line per delivery attempt (what operators grep and alert on)."""
        error = ""
        if result == "retry" and retry is not None:
            error = retry.reason.split(":", 1)[0]
        elif result == "failed":
            error = self.nights.read(sub.id, local_date).get(f"{channel}_error", "")
        log.info("delivery subscriber=%s channel=%s date=%s outcome=%s duration_ms=%d error=%s",
                 sub.id, channel, local_date, result.replace(" ", "_"), seconds * 1000,
                 error or "-")

    def _deliver(self, sub: Subscriber, channel: str, local_date: date, now: datetime,
                 settle: bool, deadline: datetime | None) -> str:
        reason = policies.skip_reason(sub, channel, local_date)
        if reason:
            if self.nights.finish(sub.id, local_date, channel, "skipped", settle=settle,
                                  reason=reason):
                log.info("send skip subscriber=%s date=%s channel=%s reason=%s", sub.id,
                         local_date, channel, reason)
            return "skipped"
        spec = channels.get(channel)
        # A record lost with a Redis restart is noticed for the channels that can look up.
        window = (policies.attempt_window(sub, local_date, self.late_limit)
                  if spec.lookup == Lookup.PROVIDER_LIST else None)
        ledger = self.store.ledgers.night(sub.id, local_date, channel, window, settle,
                                          index=spec.status_callbacks)
        address = spec.address_of(sub)
        assert address is not None  # policies.wanted: only channels with an address
        # Only the channel at hand is rendered: an SMS send does not pay for the HTML email.
        rendered = self.render[channel](sub, self.renderer.select(sub, local_date), local_date)
        return self.path.send(Outgoing(
            NIGHTLY, channel, sub, address, ledger, rendered.body, rendered.segments,
            rendered.compose, rendered.message_id, deadline), now)

    def _sms(self, sub: Subscriber, selection: Selection, local_date: date) -> Rendered:
        sms = self.renderer.sms(sub, selection)
        return Rendered(sms.body, sms.segments)

    def _email(self, sub: Subscriber, selection: Selection, local_date: date) -> Rendered:
        url = self.composer.unsubscribe_url(sub) if sub.email else None
        email = self.renderer.email(sub, selection, local_date, url)
        mid = message_ids.message_id(self.composer.secret_key, sub.id, local_date,
                                     self.composer.domain)
        return Rendered(compose=lambda now: self.composer.nightly(sub, email, now),
                        message_id=mid)
