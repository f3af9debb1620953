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
caregiver's copy is claimed as "week:<ISO week>" (app/caregiver.py).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from reminders.app import consent
from reminders.app.caregiver import CareSender
from reminders.app.retry import RetryLater
from reminders.channels.base import DeliveryError, EmailTransport, SmsTransport, refused_address
from reminders.domain import weekly
from reminders.domain.gsm import count_segments
from reminders.domain.subscriber import Subscriber
from reminders.domain.temperature import differences
from reminders.domain.validation import InvalidInput
from reminders.domain.weekly import Evening, WeekFacts
from reminders.messages.email import EmailComposer
from reminders.messages.weekly import TooLong, WeeklyTexts
from reminders.storage import caregivers, nights, temps
from reminders.storage.client import Client
from reminders.storage.rate_limit import RateLimiter
from reminders.storage.subscribers import Store

log = logging.getLogger(__name__)

SMS_CHANNEL, EMAIL_CHANNEL = "weekly", "weekly_email"
PACING_WAIT_SECONDS = 600.0


def week_facts(client: Client, sub: Subscriber, summary_date: date) -> WeekFacts:
    days = weekly.evenings_before(summary_date)
    found = nights.notes(client, sub.id, days)
    facts = weekly.facts(summary_date, [Evening(day, done, score)
                                        for day, (done, score) in zip(days, found, strict=True)])
    week = set(days[-weekly.WEEK:])
    gaps = tuple(gap for day, gap, _ in differences(temps.read(client, sub.id)) if day in week)
    return replace(facts, frequency=sub.frequency, temp_gaps=gaps)


@dataclass
class Weekly:
    store: Store
    texts: WeeklyTexts
    sms: SmsTransport
    email: EmailTransport
    composer: EmailComposer
    care: CareSender
    summary_day: int  # date.weekday()
    lease_seconds: float = 60.0
    limiter: RateLimiter | None = None

    @property
    def redis(self) -> Client:
        return self.store.redis

    def summary_date(self, day: date) -> date:
        return weekly.summary_date_for(day, self.summary_day)

    def preview(self, sub: Subscriber, day: date) -> dict[str, Any]:
        """`reminders weekly --json`: what that week's summary evening would send."""
        summary = self.summary_date(day)
        facts = week_facts(self.redis, sub, summary)
        texts = self.texts.in_language(sub.language)
        body = texts.person_sms(facts)
        count = count_segments(body)
        email = texts.email(sub.name, facts, None)
        link = caregivers.read(self.redis, sub.id)
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

    def after_evening(self, sub: Subscriber, local_date: date, now: datetime) -> dict[str, str]:
        """Called once the evening's usual text is settled: on the summary evening, the weekly
        texts (each at most once). What happened, per channel."""
        if not weekly.is_summary_evening(local_date, self.summary_day):
            return {}
        sub = self.store.get(sub.id) or sub  # the usual text may have changed it (a 21610)
        if sub.is_paused_on(local_date) or not weekly.has_full_week(sub.created_at, local_date):
            return {}
        facts = week_facts(self.redis, sub, local_date)
        done: dict[str, str] = {}
        # Their own summary reflects what they told us: someone who sent no DONE and no score
        # all week gets no "0 of 7" on top of the evening's text (their caregiver's copy, which
        # is about exactly that, still goes).
        told_us = facts.done > 0 or facts.scored
        try:
            if sub.weekly_ok and told_us and sub.sms_deliverable:
                done[SMS_CHANNEL] = self._person_sms(sub, local_date, facts, now)
            if sub.weekly_ok and told_us and sub.email_deliverable:
                done[EMAIL_CHANNEL] = self._person_email(sub, local_date, facts, now)
            body = self.texts.in_language(sub.language).caregiver_sms(sub.name, facts)
        except TooLong as exc:
            # A PROGRAM_NAME too long for SMS_MAX_SEGMENTS: the evening's own text went out,
            # the summary cannot; the operator must hear of it, the task must not fail.
            log.error("weekly text not sent subscriber=%s: %s", sub.id, exc)
            return {**done, SMS_CHANNEL: "too-long"}
        sent = self.care.send(sub, f"week:{facts.week_key}", body, "weekly", now)
        if sent != "inactive":  # most people have no caregiver: nothing to report
            done["caregiver"] = sent
        return done

    def _person_sms(self, sub: Subscriber, local_date: date, facts: WeekFacts,
                    now: datetime) -> str:
        assert sub.phone is not None
        body = self.texts.in_language(sub.language).person_sms(facts)
        if self.limiter is not None and not self.limiter.acquire(
                count_segments(body).segments, give_up_after=PACING_WAIT_SECONDS):
            nights.finish(self.redis, sub.id, local_date, SMS_CHANNEL, "missed",
                          reason="rate-limit")
            return "missed"
        claim = nights.claim(self.redis, sub.id, local_date, SMS_CHANNEL, now,
                             self.lease_seconds)
        if not claim.owned:
            return self._not_ours(claim, now)
        try:
            receipt = self.sms.send_sms(sub.phone, body)
        except DeliveryError as exc:
            return self._failed(sub, local_date, SMS_CHANNEL, exc)
        nights.finish(self.redis, sub.id, local_date, SMS_CHANNEL, "sent",
                      id=receipt.provider_id, status=receipt.status)
        log.info("weekly text subscriber=%s week=%s outcome=sent", sub.id, facts.week_key)
        return "sent"

    def _person_email(self, sub: Subscriber, local_date: date, facts: WeekFacts,
                      now: datetime) -> str:
        claim = nights.claim(self.redis, sub.id, local_date, EMAIL_CHANNEL, now,
                             self.lease_seconds)
        if not claim.owned:
            return self._not_ours(claim, now)
        rendered = self.texts.in_language(sub.language).email(
            sub.name, facts, self.composer.unsubscribe_url(sub))
        try:
            message = self.composer.nightly(sub, rendered, now)
        except InvalidInput as exc:
            return self._failed(sub, local_date, EMAIL_CHANNEL, refused_address(str(exc)))
        try:
            message_id = self.email.send_email(message)
        except DeliveryError as exc:
            return self._failed(sub, local_date, EMAIL_CHANNEL, exc)
        nights.finish(self.redis, sub.id, local_date, EMAIL_CHANNEL, "sent", id=message_id,
                      status="sent")
        return "sent"

    @staticmethod
    def _not_ours(claim: nights.Claim, now: datetime) -> str:
        if claim.outcome == "busy":
            raise RetryLater(max(float(claim.detail) - now.timestamp(), 1.0),
                             "another attempt holds the weekly text")
        if claim.outcome == "wait":
            raise RetryLater(max(float(claim.detail) - now.timestamp(), 1.0),
                             "retry-after: the provider asked us to wait")
        return f"already {claim.detail}"

    def _failed(self, sub: Subscriber, local_date: date, channel: str,
                exc: DeliveryError) -> str:
        if not exc.permanent:
            nights.release_for_retry(self.redis, sub.id, local_date, channel, exc.code)
            raise RetryLater(exc.retry_after, f"{exc.code}: {exc.message}")
        nights.finish(self.redis, sub.id, local_date, channel, "failed", error=exc.code)
        consent.apply(self.store, sub, "sms" if channel == SMS_CHANNEL else "email",
                      exc.recipient, exc.code)
        return "failed"
