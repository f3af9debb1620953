"""A caregiver who hears about the person's week and their foot problems, with both consents.

The link (storage/caregivers.py) starts with `reminders caregiver add`, which texts the caregiver
an invitation. Two consents make it active: the caregiver replies YES, the person sends CARE YES
(their health information goes to someone else), in either order. Either side ends it: the
caregiver with STOP (or CARE OFF), the person with CARE OFF; an operator with `caregiver
remove`. Every step, and every text sent to the caregiver, is an event in the person's consent
log, with the version of the text we sent.

A number that is both a caregiver and a subscriber and texts STOP is opted out of everything:
one STOP cannot say which texts it meant, Twilio's own opt-out blocks every text to that number
anyway, and the FCC's rules take any reasonable request to stop as a revocation. That number
can send CARE OFF to end only the caregiver texts.

CareSender sends the caregiver texts (kinds care_alert and care_weekly): only while the link is
active, through the one send path (paced with every other text, claimed before the send, looked
up at the provider after a lost answer): at most once per key, "alert:<ms>" per foot-problem
report, "week:<ISO week>" per weekly summary.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from reminders.app.sending.retry import RetryLater
from reminders.app.sending.send_path import Outgoing, SendPath
from reminders.channels.base import DeliveryError, Recipient, SmsTransport
from reminders.domain import channels, policies
from reminders.domain.gsm import count_segments
from reminders.domain.kinds import CARE_ALERT, CARE_WEEKLY
from reminders.domain.subscriber import Subscriber
from reminders.domain.validation import InvalidInput, clean_name, normalise_phone
from reminders.messages.weekly import WeeklyTexts
from reminders.storage.caregivers import OFF, STOPPED, YES, Link
from reminders.storage.rate_limit import RateLimiter
from reminders.storage.structures import Caregivers as StoredLinks
from reminders.storage.subscribers import ConsentEvent, Store

log = logging.getLogger(__name__)

CHANNEL = "caregiver"  # the consent-log channel of every caregiver event
PACING_WAIT_SECONDS = 300.0


class RetryCare(RetryLater):
    """A caregiver text could not go out yet (the provider is busy): the task tries again."""


def describe(link: Link | None) -> dict[str, str] | None:
    """`show --json`'s `caregiver` object."""
    if link is None:
        return None
    return {"phone": link.phone, "name": link.name, "status": link.status}


@dataclass
class Caregivers:
    store: Store
    texts: WeeklyTexts
    sms: SmsTransport
    support: str
    now: datetime
    limiter: RateLimiter | None = None  # the invitation shares TWILIO_MPS with every text

    @property
    def links(self) -> StoredLinks:
        return self.store.caregivers

    def add(self, sub: Subscriber, phone: str, name: str) -> Link:
        """Link a caregiver and text them the invitation (InvalidInput: bad or refused number)."""
        caregiver = normalise_phone(phone)
        if caregiver == sub.phone:
            raise InvalidInput("the caregiver's number is the person's own number")
        if self.store.is_suppressed_phone(caregiver) or self._opted_out(caregiver):
            raise InvalidInput(f"{caregiver} asked us to stop texting it; they must text START "
                               "before they can be invited")
        texts = self.texts.in_language(sub.language)  # the person's language
        body = texts.invitation(sub.name, self.support)
        version = texts.version("sms/care.txt.j2")
        self.links.link(sub.id, caregiver, clean_name(name or ""),
                        ConsentEvent(CHANNEL, "caregiver_invited", "cli", caregiver, version))
        if self.limiter is not None and not self.limiter.acquire(
                count_segments(body).segments, give_up_after=PACING_WAIT_SECONDS):
            raise InvalidInput("the invitation could not be sent (rate limit: no slot in time); "
                               "the caregiver is recorded, run the command again to retry")
        try:
            self.sms.send_sms(caregiver, body)
        except DeliveryError as exc:
            log.warning("caregiver invitation not sent subscriber=%s code=%s", sub.id, exc.code)
            raise InvalidInput(f"the invitation could not be sent ({exc.message}); the "
                               "caregiver is recorded, run the command again to retry") from None
        found = self.links.read(sub.id)
        assert found is not None
        return found

    def _opted_out(self, phone: str) -> bool:
        other = self.store.find(phone)
        return other is not None and other.sms_status == "opted_out"

    def remove(self, sub: Subscriber) -> Link | None:
        return self.links.unlink(sub.id,
                                 ConsentEvent(CHANNEL, "caregiver_removed", "cli"))

    # -- texts from the person -------------------------------------------------------------
    def person_says(self, sub: Subscriber, on: bool, words: str) -> str:
        """CARE YES / CARE OFF from the person: the reply."""
        link = self.links.read(sub.id)
        texts = self.texts.in_language(sub.language)
        if link is None:
            return texts.care("care_none")
        name = link.name or link.phone
        value = YES if on else OFF
        if link.person != value:
            self.links.set_consent(sub.id, "pc", value,
                                   ConsentEvent(CHANNEL, "care_yes" if on else "care_off",
                                                "sms", words), link.phone)
        if not on:
            return texts.care("care_off", name=name)
        return texts.care("care_on", name=name, active=link.caregiver == YES)

    def person_stops(self, sub: Subscriber, words: str) -> None:
        """The person's STOP: their consent to caregiver texts ends with the rest."""
        link = self.links.read(sub.id)
        if link is not None and link.person == YES:
            self.links.set_consent(sub.id, "pc", OFF,
                                   ConsentEvent(CHANNEL, "care_off", "sms", words), link.phone)

    # -- texts from a caregiver's number ---------------------------------------------------
    def links_of(self, phone: str) -> list[Link]:
        found = []
        for subscriber_id in self.links.cared_for_by(phone):
            link = self.links.read(subscriber_id)
            if link is not None and link.phone == phone:
                found.append(link)
        return found

    def caregiver_agrees(self, phone: str, words: str) -> str | None:
        """YES from a caregiver's number: their consent to one waiting invitation, the oldest,
        and the reply names its person. The others stay waiting, each for a YES of its own: one
        word cannot be consent to look after several people. (A YES is only ever the bare
        keyword, keywords.parse: "YES Bea" is not read as a YES, so it cannot pick one.)"""
        waiting = [link for link in self.links_of(phone) if link.caregiver != YES]
        if not waiting:
            return None
        chosen = min(waiting, key=lambda link: (link.added, link.subscriber_id))
        person = self.store.get(chosen.subscriber_id)
        version = self.texts.version("sms/care.txt.j2")
        self.store.suppression.remove(phone=phone)  # their YES lifts an earlier STOP
        self.links.set_consent(chosen.subscriber_id, "cg", YES,
                               ConsentEvent(CHANNEL, "caregiver_yes", "sms", words, version),
                               phone)
        # The caregiver was invited in the person's language: the answer stays in it.
        texts = self.texts.in_language(person.language if person else "en")
        return texts.care("caregiver_agreed", program_name=self.texts.program_name,
                               name=(person.name.split() or ["them"])[0] if person else "them",
                               active=chosen.person == YES)

    def caregiver_stops(self, phone: str, words: str, source: str = "sms") -> bool:
        """STOP (or CARE OFF) from a caregiver's number: no more caregiver texts from any of
        their links. Whether the number was a caregiver at all."""
        links = self.links_of(phone)
        for link in links:
            if link.caregiver != STOPPED:
                self.links.set_consent(link.subscriber_id, "cg", STOPPED,
                                       ConsentEvent(CHANNEL, "caregiver_stopped", source, words),
                                       phone)
        return bool(links)

    def stopped_reply(self, language: str = "en") -> str:
        """The caregiver's STOP or CARE OFF confirmed (in Spanish after ALTO / CUIDADOR NO)."""
        return self.texts.in_language(language).care("caregiver_stopped",
                                                     program_name=self.texts.program_name)


@dataclass
class CareSender:
    """The caregiver kinds' flow (`care_alert`, `care_weekly`): one text, at most once per
    (person, key), only to an active link, read again after the claim; through the one send
    path (sending/send_path.py), with its look-up after a lost answer."""

    store: Store
    texts: WeeklyTexts
    path: SendPath

    def send(self, sub: Subscriber, key: str, body: str, kind: str, now: datetime,
             window: tuple[datetime, datetime] | None = None) -> str:
        """What happened: sent | inactive | already <state> | failed | missed; RetryCare when
        it must be tried again. `window`: when the text's attempts are made (an alert's comes
        from its key), so that a record lost with a Redis restart within it is looked up at
        the provider before sending, as a night's is."""
        links = self.store.caregivers
        link = links.read(sub.id)
        if link is None or not link.active:
            return "inactive"  # consent is checked at the moment of sending, never earlier
        declared = CARE_ALERT if kind == "alert" else CARE_WEEKLY
        version = self.texts.in_language(sub.language).version(declared.template("sms"))
        ledger = self.store.ledgers.care(sub.id, key, ConsentEvent(
            CHANNEL, f"caregiver_{kind}_sent", "service", key, version),
            index=channels.get("sms").status_callbacks,
            window=window if kind != "alert" else policies.alert_window(key))

        def still_allowed() -> bool:
            # Looked at again after the claim: a STOP that arrived while we waited for a slot
            # (or a new caregiver number) wins.
            now_link = links.read(sub.id)
            return now_link is not None and now_link.active and now_link.phone == link.phone

        out = Outgoing(declared, "sms", sub, link.phone, ledger, body,
                       count_segments(body).segments, still_allowed=still_allowed,
                       on_permanent=lambda exc: self._refused(sub, link, exc))
        try:
            sent = self.path.send(out, now)
        except RetryCare:
            raise
        except RetryLater as exc:
            raise RetryCare(exc.delay, exc.reason, exc.backoff) from exc
        log.info("caregiver text subscriber=%s kind=%s key=%s outcome=%s", sub.id, kind, key,
                 sent.replace(" ", "_"))
        return sent

    def _refused(self, sub: Subscriber, link: Link, exc: DeliveryError) -> None:
        """A permanent answer about the caregiver's number: it concerns the link, never the
        person's own subscription."""
        if exc.recipient == Recipient.OPTED_OUT:
            # The caregiver stopped us at the provider: their consent ends, the person's
            # own subscription is theirs and stays.
            stopped = ConsentEvent(CHANNEL, "caregiver_stopped", "provider", f"error {exc.code}")
            self.store.caregivers.set_consent(sub.id, "cg", STOPPED, stopped, link.phone)
            if self.store.find(link.phone) is None:
                self.store.suppression.add(phone=link.phone)  # kept like any other STOP
