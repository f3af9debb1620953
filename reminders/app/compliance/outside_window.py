"""People whose evening time is outside their send window, and moving them (an operator's act).

A narrower SEND_WINDOW or STATE_WINDOWS does not move anyone by itself: the person chose their
time, and a text arriving at a new time unannounced is a surprise. `reminders stats` lists
them (`outside`); `reminders window-apply --dry-run` shows the move and `window-apply` makes it:
each time becomes the nearest allowed one (Window.nearest), saved with an audit line in the
consent log saying what it was, and each person whose SMS consent is active is told by text
(the `time_moved` kind, once per move: Notices below). New choices (TIME, `set time=`, the
import, `subscribe --time`) are checked against the window when they are made
(domain/validation.parse_send_time).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from reminders.app.sending.retry import RetryLater
from reminders.app.sending.send_path import Outgoing, SendPath
from reminders.domain import channels
from reminders.domain.gsm import count_segments
from reminders.domain.kinds import TIME_MOVED
from reminders.domain.subscriber import Subscriber
from reminders.domain.validation import format_clock
from reminders.domain.windows import Window, Windows
from reminders.messages.replies import Replies
from reminders.storage.consent_log import ConsentEvent
from reminders.storage.subscribers import Store

ACTION = "window_moved"
PACING_WAIT_SECONDS = 600.0  # the most one notice waits for a sending slot


@dataclass(frozen=True)
class Outside:
    sub: Subscriber
    window: Window
    nearest: time

    def row(self) -> dict[str, str | None]:
        return {"id": self.sub.id, "phone": self.sub.phone, "email": self.sub.email,
                "time": f"{self.sub.send_time:%H:%M}", "window": str(self.window),
                "moves_to": f"{self.nearest:%H:%M}"}


def outside(subs: Iterable[Subscriber], windows: Windows) -> list[Outside]:
    """Everyone who still gets texts and whose time is outside their window, by handle."""
    found = []
    for sub in subs:
        if sub.sms_status in ("opted_out", "invalid") and not sub.wants_email:
            continue  # nothing is sent to them at that time
        window = windows.for_phone(sub.phone)
        if sub.send_time not in window:
            found.append(Outside(sub, window, window.nearest(sub.send_time)))
    return sorted(found, key=lambda item: item.sub.handle())


@dataclass
class Moved:
    """What window-apply did: who moved (or would), who was told, what is left to do."""

    people: list[Outside] = field(default_factory=list)
    told: list[str] = field(default_factory=list)  # subscriber ids texted the new time
    problems: list[str] = field(default_factory=list)


@dataclass
class Notices:
    """The `time_moved` text, on the one send path (pacing, claim, consent read again after
    the claim, the look-up after a lost answer)."""

    store: Store
    path: SendPath
    replies: Replies
    program_name: str

    def send(self, item: Outside, now: datetime) -> str:
        """sent | inactive | missed | failed | already <state>; RetryLater: not yet."""
        sub = item.sub
        said = self.replies.in_language(sub.language)
        body = said.render("time_moved", program_name=self.program_name,
                           time=format_clock(item.nearest), was=format_clock(sub.send_time),
                           earliest=format_clock(item.window.start),
                           latest=format_clock(item.window.end))
        # The move is the event: from, to, and the day (a rerun after a crash finds the text
        # sent and does not send it again; a later move of the same person is a new one).
        move = f"{sub.send_time:%H%M}-{item.nearest:%H%M}@{now:%Y-%m-%d}"
        ledger = self.store.ledgers.sends(sub.id, f"{TIME_MOVED.name}:{move}",
                                          index=channels.get("sms").status_callbacks)
        phone = sub.phone or ""

        def still_allowed() -> bool:
            fresh = self.store.get(sub.id)
            return fresh is not None and fresh.sms_status == "active" and fresh.phone == phone

        return self.path.send(Outgoing(
            TIME_MOVED, "sms", sub, phone, ledger, body, count_segments(body).segments,
            deadline=now + timedelta(seconds=PACING_WAIT_SECONDS),
            still_allowed=still_allowed), now)


def apply(store: Store, windows: Windows, now: datetime, dry_run: bool, operator: str = "cli",
          notices: Notices | None = None) -> Moved:
    """Move everyone outside to their nearest allowed time, and tell each one whose SMS
    consent is active (not with `dry_run`: nothing is saved or sent)."""
    done = Moved(outside(store.all(), windows))
    if dry_run:
        return done
    for item in done.people:
        current = store.get(item.sub.id)
        if current is None or current.send_time != item.sub.send_time:
            continue  # forgotten or changed meanwhile: their own newer choice stands
        # Told first, then moved: a crash between the two leaves them outside, and the rerun
        # finds the text already sent (same move) and only moves them. A text that cannot go
        # yet leaves them unmoved: never a new time nobody was told about.
        if notices is not None and current.phone and current.sms_status == "active":
            try:
                sent = notices.send(Outside(current, item.window, item.nearest), now)
            except RetryLater as exc:
                done.problems.append(f"{current.handle()}: not moved, the text could not go "
                                     f"yet ({exc.reason}); run window-apply again")
                continue
            if sent == "missed":
                done.problems.append(f"{current.handle()}: not moved, no sending slot in "
                                     "time; run window-apply again")
                continue
            if sent == "sent" or sent.startswith("already sent"):
                done.told.append(current.id)
        words = (f"{operator}: time {item.sub.send_time:%H:%M} -> {item.nearest:%H:%M} "
                 f"(window {item.window})")
        store.save(current, current.with_changes(send_time=item.nearest),
                   [ConsentEvent("console", ACTION, "cli", words)], now)
    return done
