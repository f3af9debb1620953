"""Enrolling people and changing what they chose: validate everything first, then one write."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from reminders.app.people.confirmations import Confirmations
from reminders.domain import channels
from reminders.domain.frequency import (
    DEFAULT_DAYS,
    FREQUENCIES,
    DaysError,
    days_code,
    parse_days,
)
from reminders.domain.states import EmailStatus, SmsStatus
from reminders.domain.subscriber import Subscriber, massage_default, now_iso
from reminders.domain.validation import (
    InvalidInput,
    OutsideWindow,
    clean_name,
    normalise_email,
    normalise_phone,
    parse_bool,
    parse_cause,
    parse_channel,
    parse_clock,
    parse_date,
    parse_language,
    parse_send_time,
    parse_timezone,
    timezone_for_phone,
)
from reminders.domain.windows import DEFAULT_WINDOWS, Windows
from reminders.settings import Settings
from reminders.storage.subscribers import ConsentEvent, Store, new_subscriber_id, utcnow


@dataclass(frozen=True)
class Enrolment:
    phone: str | None = None
    email: str | None = None
    name: str = ""
    timezone: str | None = None
    time: str | None = None
    channel: str | None = None
    confirmed: bool = False
    source: str = "cli"
    words: str = ""
    language: str | None = None  # "en" | "es"; None: English
    cause: str | None = None  # diabetes | cancer_treatment | other; None: not known
    # When they agreed in the system they come from (an import): kept in the consent record,
    # and the start of their program (created_at: weekly summaries, program weeks).
    consented_at: datetime | None = None
    # The text that confirmed it (a JOIN's welcome: Replies.version), kept in the consent event
    # as the confirmation's is: what the person was told (frequency, not encrypted, STOP).
    version: str = ""


def enrol(store: Store, settings: Settings, request: Enrolment, now: datetime | None = None
          ) -> Subscriber:
    """Validate and store a new subscriber (InvalidInput / AlreadySubscribed on error)."""
    now = now or utcnow()
    phone = normalise_phone(request.phone) if request.phone else None
    email = normalise_email(request.email) if request.email else None
    if not phone and not email:
        raise InvalidInput("give a phone number, an email address, or both")
    channel = parse_channel(request.channel) if request.channel else ("sms" if phone else "email")
    wanted = channels.parse_set(channel)
    _check_channel(wanted, {"phone": phone, "email": email})
    if phone and store.is_suppressed_phone(phone) and request.source != "sms":
        raise InvalidInput(f"{phone} asked us to stop; they can text START to join again")
    if email and store.is_suppressed_email(email) and request.source != "email":
        raise InvalidInput(f"{email} unsubscribed from our emails earlier")
    # The person's window (SEND_WINDOW, narrower by area code): a default outside it (a
    # Florida number and DEFAULT_SEND_TIME 20:30) becomes its nearest allowed time.
    window = settings.windows.for_phone(phone)
    send_time = (parse_send_time(request.time, window) if request.time
                 else window.nearest(settings.default_send_time))
    language = parse_language(request.language) if request.language else "en"
    cause = parse_cause(request.cause) if request.cause else None
    sms_state = SmsStatus.ACTIVE if request.confirmed else SmsStatus.PENDING
    email_state = EmailStatus.ACTIVE if request.confirmed else EmailStatus.PENDING
    sub = Subscriber(
        id=new_subscriber_id(), phone=phone, email=email, name=clean_name(request.name),
        timezone=_pick_timezone(request.timezone, phone, settings), send_time=send_time,
        channels=wanted,
        sms_status=sms_state if phone and "sms" in wanted else SmsStatus.NONE,
        email_status=email_state if email and "email" in wanted else EmailStatus.NONE,
        created_at=now_iso(request.consented_at or now), language=language, cause=cause,
        # On cancer treatment platelets fall and clots are more likely: no massage until the
        # person (MASSAGE ON) or an operator turns it on.
        massage_ok=massage_default(cause),
    )
    action = "confirmed" if request.confirmed else "subscribed"
    words = request.words
    if request.consented_at is not None:  # first: the 160-character cut keeps it
        words = f"consented_at={now_iso(request.consented_at)} {words}".strip()
    events = [ConsentEvent(ch, action, request.source, words,
                           request.version if ch == "sms" else "")
              for ch in channels.ordered(sub.channels)]
    return store.create(sub, events, now)


def _pick_timezone(given: str | None, phone: str | None, settings: Settings) -> str:
    if given:
        return parse_timezone(given)
    inferred = timezone_for_phone(phone) if phone else None
    return inferred or settings.fallback_timezone


_NEEDS = {"phone": "a phone number", "email": "an email address"}


def _check_channel(wanted: frozenset[str], addresses: dict[str, str | None]) -> None:
    """Every chosen channel has its address (`addresses`: address field -> value)."""
    for name in channels.ordered(wanted):
        field = channels.get(name).address
        if not addresses.get(field):
            raise InvalidInput(f"channel {channels.legacy_name(wanted)} needs "
                               f"{_NEEDS.get(field, field)}")


SETTABLE = ("time", "timezone", "channel", "email", "name", "heat_ok", "massage_ok",
            "paused_until", "phone", "language", "cause", "frequency", "routine_days",
            "temp_monitoring", "voice_agreed")


def parse_assignments(sub: Subscriber, assignments: list[str],
                      windows: Windows = DEFAULT_WINDOWS) -> dict[str, Any]:
    """'time=21:00' ... -> validated field changes for Subscriber.with_changes (a new time
    inside the window of the number the person will have)."""
    if not assignments:
        raise InvalidInput("nothing to set: give KEY=VALUE, e.g. time=21:00")
    changes: dict[str, Any] = {}
    for assignment in assignments:
        key, sep, value = assignment.partition("=")
        key = key.strip().lower().replace("-", "_")
        if not sep:
            raise InvalidInput(f"expected KEY=VALUE, got {assignment!r}")
        parse = _voice_agreed if key == "voice_agreed" else partial(_parse_one, key)
        changes.update(parse(value.strip()))
    _massage_and_cause(sub, changes)
    if changes.get("voice_status") == "active" and not {"channel", "channels"} & set(changes):
        changes["channels"] = sub.channels | {"voice"}
    merged = sub.with_changes(**changes)
    _check_channel(merged.channels, {"phone": merged.phone, "email": merged.email})
    window = windows.for_phone(merged.phone)
    if "send_time" in changes and changes["send_time"] not in window:
        raise OutsideWindow(changes["send_time"], window)
    return _consent_states(sub, merged, changes)


def _parse_one(key: str, value: str) -> dict[str, Any]:
    if key == "time":
        return {"send_time": parse_clock(value)}  # the window: parse_assignments
    if key in ("timezone", "tz"):
        return {"timezone": parse_timezone(value)}
    if key == "channel":
        return {"channel": parse_channel(value)}
    if key == "email":
        return {"email": normalise_email(value) if value.lower() not in ("", "none") else None}
    if key in ("phone", "name"):
        return {key: (normalise_phone if key == "phone" else clean_name)(value)}
    if key in ("frequency", "routine_days"):
        return _schedule_choice(key, value)
    if key in ("heat_ok", "massage_ok", "temp_monitoring"):
        return {key: parse_bool(value)}
    if key in ("language", "cause"):
        return {key: (parse_language if key == "language" else parse_cause)(value)}
    if key == "paused_until":
        return {"paused_until": None if value.lower() in ("", "none") else parse_date(value)}
    raise InvalidInput(f"unknown setting {key!r} (one of: {', '.join(SETTABLE)})")


def _schedule_choice(key: str, value: str) -> dict[str, Any]:
    """frequency=daily|lighter, routine_days=mon,wed,fri (the lighter schedule's evenings)."""
    if key == "frequency":
        chosen = value.strip().lower()
        if chosen not in FREQUENCIES:
            raise InvalidInput(f"frequency must be one of {', '.join(FREQUENCIES)}")
        return {"frequency": chosen}
    try:
        days = parse_days(value)
    except DaysError as exc:
        raise InvalidInput(f"routine_days: {exc}") from None
    return {"routine_days": () if days == DEFAULT_DAYS else days}


def frequency_events(before: Subscriber, after: Subscriber, source: str, words: str
                     ) -> list[ConsentEvent]:
    """How often a person is texted is part of what they agreed to: each change of schedule
    (LESS / MORE, `set`, the console) is a line in the consent log."""
    if (before.frequency, before.routine_days) == (after.frequency, after.routine_days):
        return []
    action = f"frequency_{after.frequency}"
    if after.frequency == "lighter":
        action += ":" + days_code(after.routine_days or DEFAULT_DAYS)
    return [ConsentEvent("sms", action, source, words)]


def _voice_agreed(value: str) -> dict[str, Any]:
    """The evening call needs the person's prior express consent to an automated voice: an
    operator turns it on only with the agreement they recorded (their words, who, when)."""
    if not value or len(value) > 300:
        raise InvalidInput("voice_agreed needs the person's recorded agreement, e.g. "
                           "voice_agreed='said yes to automated calls on 2026-12-07'")
    return {"voice_status": "active"}


def _massage_and_cause(sub: Subscriber, changes: dict[str, Any]) -> None:
    """A changed massage_ok is a choice, kept whatever the cause. A cause set later turns
    massage off for cancer treatment unless someone chose it; it never turns massage on (a
    record from before choices were noted may hold a MASSAGE OFF that was never marked)."""
    if "massage_ok" in changes:
        if changes["massage_ok"] == sub.massage_ok:
            del changes["massage_ok"]  # the console sends the form as it was: not a choice
        else:
            changes["massage_set"] = True
    chosen = sub.massage_set or "massage_set" in changes
    if changes.get("cause") and not chosen and not massage_default(changes["cause"]):
        changes["massage_ok"] = False


def _consent_states(before: Subscriber, after: Subscriber, changes: dict[str, Any]
                    ) -> dict[str, Any]:
    """A number or address that was not confirmed for this person waits for its owner's YES
    (or click), as `subscribe` without --confirmed does: an operator cannot consent for them."""
    if not after.email:
        changes["email_status"] = "none"
    elif after.email != before.email or (after.wants_email and after.email_status == "none"):
        changes["email_status"] = "pending"
    moved = after.phone != before.phone and after.sms_status != "none"
    if after.phone and (moved or (after.wants_sms and after.sms_status == "none")):
        changes["sms_status"] = "pending"
    return changes


def asking(before: Subscriber, after: Subscriber) -> tuple[bool, bool]:
    """(text a confirmation, mail one): a channel that became pending with this change."""
    sms = after.sms_status == SmsStatus.PENDING and (
        after.phone != before.phone or before.sms_status != SmsStatus.PENDING)
    email = after.email_status == EmailStatus.PENDING and (
        after.email != before.email or before.email_status != EmailStatus.PENDING)
    return sms, email


def refuse_suppressed(store: Store, before: Subscriber, after: Subscriber) -> None:
    """The one check every change of number, address or channel passes (`set`, the console's
    form): a number that texted STOP or an address that unsubscribed is refused, and is not
    asked to confirm; only its owner can lift that (START / a confirmation link)."""
    sms, email = asking(before, after)
    if after.phone and (sms or after.phone != before.phone) and store.is_suppressed_phone(
            after.phone):
        raise InvalidInput(f"{after.phone} asked us to stop texting it; only its owner can "
                           "join again, by texting START")
    if after.email and (email or after.email.lower() != (before.email or "").lower()) and (
            store.is_suppressed_email(after.email)):
        raise InvalidInput(f"{after.email} unsubscribed from our emails; only its owner can "
                           "join again, from a confirmation email")


def change(store: Store, sub: Subscriber, changes: dict[str, Any],
           now: datetime | None = None, events: Sequence[ConsentEvent] = ()) -> Subscriber:
    """Apply validated changes; `events` (the console's audit line) are saved with them."""
    after = sub.with_changes(**changes)
    refuse_suppressed(store, sub, after)
    return store.save(sub, after, events, now or utcnow())


@dataclass(frozen=True)
class Updated:
    sub: Subscriber
    problems: list[str]  # a confirmation that was due and could not be sent, one line each


def update(store: Store, confirmations: Confirmations, sub: Subscriber,
           assignments: list[str], now: datetime | None = None,
           events: Sequence[ConsentEvent] = (), source: str = "cli",
           windows: Windows = DEFAULT_WINDOWS) -> Updated:
    """`set` and the console's person form: validate, save, then ask a new number or address
    to confirm (the texts `subscribe` sends). InvalidInput: nothing changed."""
    changes = parse_assignments(sub, assignments, windows)
    sms, email = asking(sub, sub.with_changes(**changes))
    events = [*events, *frequency_events(sub, sub.with_changes(**changes), source,
                                         " ".join(assignments))]
    # The consent record says who asked for the new channel; its owner's YES completes it.
    asked = [ConsentEvent(channel, "subscribed", source, " ".join(assignments))
             for channel, wanted in (("sms", sms), ("email", email)) if wanted]
    if changes.get("voice_status") == "active" and sub.voice_status != "active":
        asked.append(ConsentEvent("voice", "opted_in", source, " ".join(assignments)))
    after = change(store, sub, changes, now, [*events, *asked])
    problems = [confirmations.text(after).problem if sms else "",
                confirmations.mail(after).problem if email else ""]
    return Updated(after, [p for p in problems if p])
