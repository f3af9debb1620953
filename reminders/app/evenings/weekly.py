"""The weekly progress summary: its facts, `reminders weekly`, and sending it on the evening.

On WEEKLY_SUMMARY_DAY, right after that evening's usual text went out, the person (with us the
whole week, and who sent at least one DONE or score in it) gets a second, short text with
their week (and email subscribers a weekly email with a chart of 28
evenings), and their caregiver, when both agreed, gets the week too. The usual text is left
exactly as it is every night (the foot check first, the safety note, its own segment budget);
the summary is a text of its own within SMS_MAX_SEGMENTS.

Exactly once: the person's weekly text and email are channels `weekly` and `weekly_email` of
the summary evening's night record (storage/nights.py, the same claim as the nightly text);
there is one summary evening per ISO week, so that is once per (person, ISO week). The
caregiver's copy is claimed as "week:<ISO week>" (app/people/caregivers.py).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from reminders.app.people.caregivers import CareSender
from reminders.app.sending import message_ids
from reminders.app.sending.send_path import Outgoing, SendPath
from reminders.domain import channels, policies, weekly
from reminders.domain.channels import Lookup
from reminders.domain.gsm import count_segments
from reminders.domain.kinds import WEEKLY
from reminders.domain.subscriber import Subscriber
from reminders.domain.temperature import differences
from reminders.domain.weekly import Evening, WeekFacts
from reminders.messages.email import EmailComposer
from reminders.messages.weekly import TooLong, WeeklyTexts
from reminders.storage.subscribers import Store

log = logging.getLogger(__name__)

SMS_CHANNEL, EMAIL_CHANNEL = WEEKLY.record_field("sms"), WEEKLY.record_field("email")


def week_facts(store: Store, sub: Subscriber, summary_date: date) -> WeekFacts:
    days = weekly.evenings_before(summary_date)
    found = store.nights.notes(sub.id, days)
    facts = weekly.facts(summary_date, [Evening(day, done, score)
                                        for day, (done, score) in zip(days, found, strict=True)])
    week = set(days[-weekly.WEEK:])
    gaps = tuple(gap for day, gap, _ in differences(store.temps.read(sub.id)) if day in week)
    return replace(facts, frequency=sub.frequency, temp_gaps=gaps)


@dataclass
class Weekly:
    """The weekly kinds' flow: on the summary evening, the person's summary (kind `weekly`, on
    each of their channels) and their caregiver's copy (kind `care_weekly`), each through the
    one send path (sending/send_path.py)."""

    store: Store
    texts: WeeklyTexts
    path: SendPath
    composer: EmailComposer
    care: CareSender
    summary_day: int  # date.weekday()
    late_limit: timedelta = timedelta(minutes=90)  # LATE_LIMIT_MINUTES: the attempt window

    def summary_date(self, day: date) -> date:
        return weekly.summary_date_for(day, self.summary_day)

    def preview(self, sub: Subscriber, day: date) -> dict[str, Any]:
        """`reminders weekly --json`: what that week's summary evening would send."""
        summary = self.summary_date(day)
        facts = week_facts(self.store, sub, summary)
        texts = self.texts.in_language(sub.language)
        body = texts.person_sms(facts)
        count = count_segments(body)
        email = texts.email(sub.name, facts, None)
        link = self.store.caregivers.read(sub.id)
        return {
            "date": summary.isoformat(), "week": facts.week_key,
            "facts": {"done": facts.done, "of": weekly.WEEK, "streak": facts.streak,
                      "average": facts.average, "previous": facts.previous,
                      "change": facts.change or None},
            "sms": {"body": body, "segments": count.segments, "encoding": count.encoding},
            "email": {"subject": email.subject, "text": email.text, "html": email.html},
            "caregiver_sms": (texts.caregiver_sms(sub.name, facts)
                              if link is not None else None),
            "weekly_ok": sub.weekly_ok,
        }

    def follows(self, local_date: date) -> bool:
        """The summary evening: the nightly flow settles it only after after_evening."""
        return weekly.is_summary_evening(local_date, self.summary_day)

    def after_evening(self, sub: Subscriber, local_date: date, now: datetime) -> dict[str, str]:
        """Called once the evening's usual text is recorded: on the summary evening, the weekly
        texts (each at most once). What happened, per record field."""
        if not self.follows(local_date):
            return {}
        sub = self.store.get(sub.id) or sub  # the usual text may have changed it (a 21610)
        if sub.is_paused_on(local_date) or not weekly.has_full_week(sub.created_at, local_date):
            return {}
        facts = week_facts(self.store, sub, local_date)
        done: dict[str, str] = {}
        # Their own summary reflects what they told us: someone who sent no DONE and no score
        # all week gets no "0 of 7" on top of the evening's text (their caregiver's copy, which
        # is about exactly that, still goes).
        told_us = facts.done > 0 or facts.scored
        try:
            for channel in WEEKLY.channels:
                if sub.weekly_ok and told_us and sub.deliverable(channel):
                    done[WEEKLY.record_field(channel)] = self.path.send(
                        self._outgoing(sub, channel, local_date, facts), now)
            body = self.texts.in_language(sub.language).caregiver_sms(sub.name, facts)
        except TooLong as exc:
            # A PROGRAM_NAME too long for SMS_MAX_SEGMENTS: the evening's own text went out,
            # the summary cannot; the operator must hear of it, the task must not fail.
            log.error("weekly text not sent subscriber=%s: %s", sub.id, exc)
            return {**done, SMS_CHANNEL: "too-long"}
        # Sent within the summary evening's attempts, as the person's own weekly text.
        sent = self.care.send(sub, f"week:{facts.week_key}", body, "weekly", now,
                              policies.attempt_window(sub, local_date, self.late_limit))
        if sent != "inactive":  # most people have no caregiver: nothing to report
            done["caregiver"] = sent
        return done

    def _outgoing(self, sub: Subscriber, channel: str, local_date: date,
                  facts: WeekFacts) -> Outgoing:
        """The person's weekly message on `channel`, claimed on the summary evening's night
        record (one summary evening per ISO week: once per person and week)."""
        spec = channels.get(channel)
        address = spec.address_of(sub)
        assert address is not None  # deliverable
        # Sent within the summary evening's attempts: a record lost with a Redis restart in
        # that window is looked up at the provider before sending, as the nightly text is.
        window = (policies.attempt_window(sub, local_date, self.late_limit)
                  if spec.lookup == Lookup.PROVIDER_LIST else None)
        ledger = self.store.ledgers.night(sub.id, local_date, WEEKLY.record_field(channel),
                                          window, index=spec.status_callbacks)
        # What renders the summary on each channel: a new channel adds its entry.
        render = {"sms": self._sms, "email": self._email}[channel]
        return render(Outgoing(WEEKLY, channel, sub, address, ledger), local_date, facts)

    def _sms(self, out: Outgoing, local_date: date, facts: WeekFacts) -> Outgoing:
        assert out.sub is not None  # the weekly kind's audience is the person
        out.body = self.texts.in_language(out.sub.language).person_sms(facts)
        out.segments = count_segments(out.body).segments
        return out

    def _email(self, out: Outgoing, local_date: date, facts: WeekFacts) -> Outgoing:
        sub = out.sub
        assert sub is not None  # the weekly kind's audience is the person
        rendered = self.texts.in_language(sub.language).email(
            sub.name, facts, self.composer.unsubscribe_url(sub))
        out.compose = lambda now: self.composer.nightly(sub, rendered, now)
        # Its own deterministic Message-ID: a retry after a lost answer is the same message.
        out.message_id = message_ids.message_id_for(
            self.composer.secret_key, WEEKLY.key(sub.id, facts.week_key), "weekly",
            local_date, self.composer.domain)
        return out
