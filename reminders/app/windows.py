"""People whose evening time is outside their send window, and moving them (an operator's act).

A narrower SEND_WINDOW or STATE_WINDOWS does not move anyone by itself: the person chose their
time, and a text arriving at a new time unannounced is a surprise. `reminders stats` lists
them (`outside`); `reminders window-apply --dry-run` shows the move and `window-apply` makes it:
each time becomes the nearest allowed one (Window.nearest), saved with an audit line in the
consent log saying what it was. New choices (TIME, `set time=`, the import, `subscribe --time`)
are checked against the window when they are made (domain/validation.parse_send_time).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time

from reminders.domain.subscriber import Subscriber
from reminders.domain.windows import Window, Windows
from reminders.storage.consent_log import ConsentEvent
from reminders.storage.subscribers import Store

ACTION = "window_moved"


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


def apply(store: Store, windows: Windows, now: datetime, dry_run: bool, operator: str = "cli"
          ) -> list[Outside]:
    """Move everyone outside to their nearest allowed time (not with `dry_run`)."""
    found = outside(store.all(), windows)
    if dry_run:
        return found
    for item in found:
        current = store.get(item.sub.id)
        if current is None or current.send_time != item.sub.send_time:
            continue  # forgotten or changed meanwhile: their own newer choice stands
        words = (f"{operator}: time {item.sub.send_time:%H:%M} -> {item.nearest:%H:%M} "
                 f"(window {item.window})")
        store.save(current, current.with_changes(send_time=item.nearest),
                   [ConsentEvent("console", ACTION, "cli", words)], now)
    return found
