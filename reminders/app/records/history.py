"""One person's last nights, for the console's person page: was it delivered, did they text
DONE, what symptom score they gave (the night records of storage/nights.py); and their message
history, in and out (storage/conversation.py, and the nightly reminders with their delivery
status)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from reminders.domain.schedule import upcoming
from reminders.domain.subscriber import Subscriber
from reminders.storage.subscribers import Store

DAYS = 30


def last_nights(store: Store, sub: Subscriber, now: datetime, days: int = DAYS
                ) -> list[dict[str, Any]]:
    """The last `days` local evenings, oldest first: {"date", "outcome", "done", "score"}.

    outcome: "delivered" (the provider said so; an email accepted by the mail server counts),
    "sent" (no receipt yet), "failed", "missed", "skipped", or "" when nothing was recorded.
    """
    today = now.astimezone(ZoneInfo(sub.timezone)).date()
    dates = [today - timedelta(days=n) for n in range(days - 1, -1, -1)]
    found = []
    for day, record in zip(dates, store.nights.read_many(sub.id, dates), strict=True):
        score = record.get("score", "")
        found.append({"date": day.isoformat(), "outcome": outcome(record),
                      "done": record.get("done") == "1",
                      "score": int(score) if score.isdigit() else None})
    return found


# The per-person delivery report (CSV for outreach staff): at most this many evenings back
# (night records live 400 days).
REPORT_DAYS = 400
REPORT_COLUMNS = ("date", "outcome", "sms", "sms_status", "sms_error", "email", "email_error",
                  "done", "score")


def delivery_report(store: Store, sub: Subscriber, now: datetime, days: int
                    ) -> list[dict[str, str]]:
    """The last `days` local evenings, oldest first, one row each (REPORT_COLUMNS): what was
    recorded for each channel as it is stored, and the outcome as last_nights reads it."""
    today = now.astimezone(ZoneInfo(sub.timezone)).date()
    dates = [today - timedelta(days=n) for n in range(days - 1, -1, -1)]
    rows = []
    for day, record in zip(dates, store.nights.read_many(sub.id, dates), strict=True):
        rows.append({"date": day.isoformat(), "outcome": outcome(record),
                     **{column: record.get(column, "") for column in REPORT_COLUMNS[2:7]},
                     "done": "yes" if record.get("done") == "1" else "",
                     "score": record.get("score", "")})
    return rows


def outcome(record: dict[str, str]) -> str:
    sms, email, sms_status = (record.get(f, "") for f in ("sms", "email", "sms_status"))
    if (sms == "sent" and sms_status == "delivered") or email == "sent":
        return "delivered"
    if sms == "sent" and sms_status in ("failed", "undelivered"):
        return "failed"
    return next((state for state in ("sent", "failed", "missed", "skipped")
                 if state in (sms, email)), "")


def tonight_date(sub: Subscriber, now: datetime | None = None) -> date:
    """The local date of the person's next evening (today if its time has not passed yet):
    what `preview` shows by default."""
    nxt = upcoming(sub.send_time, ZoneInfo(sub.timezone), now or datetime.now(UTC), 1)[0]
    return nxt.local_date


def messages(store: Store, sub: Subscriber, now: datetime, days: int = DAYS
             ) -> list[dict[str, Any]]:
    """Texts in and out, the newest first: {"dir", "at" (ISO UTC), "local", "kind", "text",
    "status", "level", "category"}. The nightly reminders are listed by evening with their
    delivery status (their words are the evening's preview, not kept)."""
    zone = ZoneInfo(sub.timezone)
    found: list[dict[str, Any]] = []
    for said in store.conversation.read(sub.id):
        at = datetime.fromisoformat(said["at"].replace("Z", "+00:00"))
        found.append({**said, "status": said.get("status", ""), "sort": at,
                      "local": at.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")})
    for night in last_nights(store, sub, now, days):
        if not night["outcome"]:
            continue
        day = date.fromisoformat(night["date"])
        at = datetime.combine(day, sub.send_time, zone)
        found.append({"dir": "out", "kind": "reminder", "text": "the evening's reminder",
                      "status": night["outcome"], "sort": at.astimezone(UTC),
                      "local": at.strftime("%Y-%m-%d %H:%M %Z"), "level": "", "category": ""})
    found.sort(key=lambda row: row["sort"], reverse=True)
    return found
