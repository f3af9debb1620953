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

Not here yet: engagement (DONE or a score per delivered evening, by program week) and silence
need counts kept with the night records, which this does not add.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from reminders.app.care import loop_stats
from reminders.storage.subscribers import Store

# Program weeks count from this Monday (lua/tally_functions.lua, TALLY_WEEK_BASE).
WEEK_BASE = 1_704_067_200
WEEK = 604_800


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
            "stopped": {"replied_stop": sms.get("opted_out", 0),
                        "unreachable": sms.get("invalid", 0),
                        "email_unsubscribed": email.get("unsubscribed", 0),
                        "email_bouncing": email.get("bouncing", 0)},
            "stopped_by_word": store.tally.stop_words(),
            "loop": loop_stats.figures(store, now)}
