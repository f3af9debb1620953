"""`reminders analytics`: what a program reports, from the counts kept with the records
(storage/tally.py), so it costs a few commands at any size.

- Retention by program week: of the people who started k weeks ago (the week of their
  enrolment, weeks from Monday), the share who still get texts or emails now, in all and by
  language and by cause. A cross-section (today's state of each starting week), not the history
  of one group: a week of people who started long ago stands for "still subscribed after k
  weeks". People who have not confirmed yet are counted apart (pending), not as stayed or left.
- Why people stopped: replied STOP (or an equivalent) by text, unreachable (Twilio refused the
  number as invalid or not a mobile), unsubscribed by email, email bouncing; and the opt-outs
  by text by the word they used (STOP, CANCEL, ALTO, ... or "phrase": a plain request), kept
  by the opt-out script itself (tally.stop_words).
- The care team's loop (app/care/loop_stats.py, what `stats` shows): per week, the time to
  acknowledge, outcomes, items past their deadline, check-ins, escalations; open items by age.

- Engagement by program week: of the evenings delivered in a person's k-th week since they
  started, the share they answered with DONE or a score, in all and by language; counted with
  the night records (storage/engagement.py) in each local date's counters, so it covers the
  dates those counters last (400 days). An evening is delivered when a channel's provider said
  so (an SMS status callback); one without a delivery report is not in it.

Not here yet: silence (no answer for weeks) needs counts kept with the night records.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from reminders.app.care import loop_stats
from reminders.storage.subscribers import Store

# Program weeks count from this Monday (lua/tally_functions.lua, TALLY_WEEK_BASE).
WEEK_BASE = 1_704_067_200
WEEK = 604_800
MAX_DAYS = 400  # the per-date counters live 400 days (keys.STATS_TTL_SECONDS)


@dataclass
class Share:
    started: int = 0
    on: int = 0
    pending: int = 0

    def add(self, state: str, people: int) -> None:
        if state == "pending":
            self.pending += people
        else:
            self.started += people
            self.on += people if state == "on" else 0

    def as_json(self) -> dict[str, Any]:
        return {"started": self.started, "still_subscribed": self.on,
                "share": round(self.on / self.started, 4) if self.started else None,
                "pending": self.pending}


def engagement(store: Store, now: datetime) -> list[dict[str, Any]]:
    """[{"week", "delivered", "engaged", "share", "by_language"}] by program week (the week of
    the person's program the evening fell in; "none" for a record without a start, last)."""
    today = now.astimezone(UTC).date() + timedelta(days=1)  # tomorrow already, east of UTC
    dates = [today - timedelta(days=n) for n in range(MAX_DAYS + 1)]
    weeks: dict[str, dict[str, Any]] = {}
    for (week, language), counts in sorted(store.engagement.read(dates).items()):
        row = weeks.setdefault(week, {"week": int(week) if week.isdigit() else week,
                                      "delivered": 0, "engaged": 0, "by_language": {}})
        row["delivered"] += counts["delivered"]
        row["engaged"] += counts["engaged"]
        row["by_language"][language] = {**counts, "share": _share(counts)}
    order = sorted(weeks, key=lambda week: (not week.isdigit(), int(week) if week.isdigit() else 0))
    return [{**weeks[week], "share": _share(weeks[week])} for week in order]


def _share(counts: dict[str, Any]) -> float | None:
    return round(counts["engaged"] / counts["delivered"], 4) if counts["delivered"] else None


def program_week(now: datetime) -> int:
    return (int(now.astimezone(UTC).timestamp()) - WEEK_BASE) // WEEK


def compute(store: Store, now: datetime) -> dict[str, Any]:
    kept = store.tally.read()
    current = program_week(now)
    weeks: dict[int, Share] = defaultdict(Share)
    by: dict[str, dict[int, dict[str, Share]]] = {
        "language": defaultdict(lambda: defaultdict(Share)),
        "cause": defaultdict(lambda: defaultdict(Share))}
    for cohort, people in kept.of("cohort").items():
        week, state, language, cause = [*cohort.split("/"), "", "", "", ""][:4]
        if not week.lstrip("-").isdigit():
            continue  # a record without a start date (an old layout): not placed in a week
        since = max(0, current - int(week))
        weeks[since].add(state, people)
        by["language"][since][language].add(state, people)
        by["cause"][since][cause].add(state, people)
    retention = [{"week": k, **weeks[k].as_json(),
                  "by_language": {v: s.as_json() for v, s in sorted(by["language"][k].items())},
                  "by_cause": {v: s.as_json() for v, s in sorted(by["cause"][k].items())}}
                 for k in sorted(weeks)]
    sms, email = kept.of("sms"), kept.of("email")
    return {"people": kept.total, "retention": retention,
            "engagement": engagement(store, now),
            "stopped": {"replied_stop": sms.get("opted_out", 0),
                        "unreachable": sms.get("invalid", 0),
                        "email_unsubscribed": email.get("unsubscribed", 0),
                        "email_bouncing": email.get("bouncing", 0)},
            "stopped_by_word": store.tally.stop_words(),
            "loop": loop_stats.figures(store, now)}
