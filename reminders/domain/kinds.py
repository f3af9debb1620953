"""The message-kind registry: every kind of message the service sends, declared once.

A kind says who it goes to (audience), on which channels it may go (domain/channels.py names),
which consent is checked at the moment of sending, what makes it once-only (its idempotency
key: who, kind, period), the most SMS segments it may take, and its template per channel. The
one send path (app/sending/send_path.py) claims, renders, paces, sends, looks up after a lost answer
and records every kind the same way; a flow (the nightly evening, the weekly summary, a caregiver
alert) only says which kind, whom, which period, and the words.

To add a kind: one `register(Kind(...))` here, its templates under templates/, and the flow that
decides when it is due (a few lines calling SendPath.send). See docs/ARCHITECTURE.md, "How to add
a message kind".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from reminders.domain.registry import Registry


class Audience(StrEnum):
    PERSON = "person"  # the subscriber
    CAREGIVER = "caregiver"  # the person's caregiver, on an active link
    CARE_TEAM = "care_team"  # the clinic's staff


class Consent(StrEnum):
    """What is checked at the moment of sending (after the claim, never only earlier)."""

    CHANNEL = "channel"  # the person's state on that channel is active, and not paused
    CARE_LINK = "care_link"  # the caregiver link is active (both consents, no STOP)
    ASKED = "asked"  # sent because they just asked for it (a confirmation): no standing consent
    STAFF = "staff"  # the clinic's own address, from its settings: no one's consent to read


class Period(StrEnum):
    """What a kind's idempotency key counts in: at most one message per (who, kind, period)."""

    EVENING = "evening"  # the person's local evening (YYYY-MM-DD)
    ISO_WEEK = "iso_week"  # 2026-W49
    EVENT = "event"  # one event: a foot-problem report (its id), a request, a silent stretch
    YEAR = "year"  # 2026


@dataclass(frozen=True)
class Kind:
    name: str
    audience: Audience
    channels: tuple[str, ...]  # in the order they are sent
    consent: Consent
    period: Period
    templates: dict[str, str] = field(default_factory=dict)  # channel -> template name
    max_segments: int | None = None  # None: SMS_MAX_SEGMENTS
    # The field prefix of the record that claims it, per channel (the night record keeps the
    # nightly text as "sms", the weekly one as "weekly"); default: the channel's name.
    record_fields: dict[str, str] = field(default_factory=dict)

    def record_field(self, channel: str) -> str:
        return self.record_fields.get(channel, channel)

    def template(self, channel: str) -> str:
        return self.templates[channel]

    def key(self, who: str, period: str) -> str:
        """The idempotency key: who, kind, period (e.g. "123456789:nightly:2027-01-09")."""
        return f"{who}:{self.name}:{period}"


def evening(local_date: date) -> str:
    return local_date.isoformat()


def iso_week(local_date: date) -> str:
    year, week, _ = local_date.isocalendar()
    return f"{year}-W{week:02d}"


_REGISTRY: Registry[Kind] = Registry("message kind", lambda kind: kind.name)
register, get, names = _REGISTRY.register, _REGISTRY.get, _REGISTRY.names


NIGHTLY = register(Kind(
    "nightly", Audience.PERSON, ("sms", "email", "voice"), Consent.CHANNEL, Period.EVENING,
    templates={"sms": "sms/nightly.txt.j2", "email": "email/nightly.html.j2",
               "voice": "voice/script.toml"}))
WEEKLY = register(Kind(
    "weekly", Audience.PERSON, ("sms", "email"), Consent.CHANNEL, Period.ISO_WEEK,
    templates={"sms": "sms/weekly.txt.j2", "email": "email/weekly.html.j2"},
    # claimed on the summary evening's night record, beside the nightly text
    record_fields={"sms": "weekly", "email": "weekly_email"}))
CARE_WEEKLY = register(Kind(
    "care_weekly", Audience.CAREGIVER, ("sms",), Consent.CARE_LINK, Period.ISO_WEEK,
    templates={"sms": "sms/weekly.txt.j2"}, record_fields={"sms": "week"}))
CARE_ALERT = register(Kind(
    "care_alert", Audience.CAREGIVER, ("sms",), Consent.CARE_LINK, Period.EVENT,
    templates={"sms": "sms/care.txt.j2"}, record_fields={"sms": "alert"}))
CONFIRMATION = register(Kind(
    "confirmation", Audience.PERSON, ("sms", "email"), Consent.ASKED, Period.EVENT,
    templates={"sms": "sms/confirm.txt.j2", "email": "email/confirm.html.j2"}))
CHECKIN = register(Kind(
    # once per silent stretch (named by the instant of the last text heard: app/care/silence.py)
    "checkin", Audience.PERSON, ("sms",), Consent.CHANNEL, Period.EVENT,
    templates={"sms": "sms/replies.txt.j2#checkin"}))
RECONFIRM = register(Kind(
    "reconfirm", Audience.PERSON, ("sms",), Consent.CHANNEL, Period.YEAR,
    templates={"sms": "sms/replies.txt.j2#reconfirm_ask"}))
CARE_RECONFIRM = register(Kind(
    "care_reconfirm", Audience.CAREGIVER, ("sms",), Consent.CARE_LINK, Period.YEAR,
    templates={"sms": "sms/replies.txt.j2#reconfirm_ask_caregiver"}))
CARE_TEAM_EMAIL = register(Kind(
    # the care team told about a review item nobody took (app/care/escalation.py): once per
    # (item, stage); its words are the minimum necessary, never the person's own
    "care_team_email", Audience.CARE_TEAM, ("email",), Consent.STAFF, Period.EVENT,
    templates={"email": "staff/care_team.txt.j2"}))
TIME_MOVED = register(Kind(
    # `reminders window-apply` moved their evening time into the send window: told once per
    # move (the event: old time, new time, the day of the move; app/compliance/outside_window.py)
    "time_moved", Audience.PERSON, ("sms",), Consent.CHANNEL, Period.EVENT,
    templates={"sms": "sms/replies.txt.j2#time_moved"}))
