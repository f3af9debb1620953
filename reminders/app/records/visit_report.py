"""The one-page visit report's facts (`reminders report`, the console's "Print report").

What the person did over the last weeks, read from what the service recorded: the evenings a
reminder went out and was delivered, the evenings they texted DONE, their 0-10 scores, their
foot-problem reports (open ones from their flag list, closed ones and their outcome from the
consent/audit log: domain/foot_problems.py), the routines of the evenings they did, and their
settings. messages/visit_report.py turns these facts into HTML and PDF.

Night records (DONE, scores, deliveries) are kept NIGHT_TTL_SECONDS (45 days): a longer report
says from which date its evenings are known (`known_from`), never shows the missing weeks as
"nothing done".

Temperature pairs (the TEMP readings of storage/temps.py, in Celsius) go in
`VisitFacts.temperatures`; the report shows that section when there are any.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from reminders.app.care import flags
from reminders.app.records import audit, history
from reminders.domain import foot_problems
from reminders.domain.foot_problems import Problem
from reminders.domain.subscriber import Subscriber
from reminders.domain.temperature import Unit
from reminders.domain.visit_report import Evening, TemperaturePair, VisitFacts, preferences
from reminders.messages.render import Renderer
from reminders.storage import keys
from reminders.storage.subscribers import Store

MAX_WEEKS = 52
KEPT_DAYS = keys.NIGHT_TTL_SECONDS // 86400
TOP_ROUTINES = 3


def facts(store: Store, renderer: Renderer, program: str, sub: Subscriber, weeks: int,
          now: datetime | None = None) -> VisitFacts:
    if not 1 <= weeks <= MAX_WEEKS:
        raise ValueError(f"--weeks must be between 1 and {MAX_WEEKS}")
    now = now or datetime.now(UTC)
    today = now.astimezone(ZoneInfo(sub.timezone)).date()
    first = today - timedelta(days=7 * weeks - 1)
    known_from = max(first, today - timedelta(days=KEPT_DAYS - 1))
    evenings = _evenings(store, sub, known_from, today)
    return VisitFacts(
        name=sub.name, handle=sub.handle(), program=program, enrolled=_started(sub),
        first_day=first, last_day=today,
        known_from=known_from, evenings=evenings,
        problems=_problems(store, sub, first, now), routines=_routines(renderer, sub, evenings),
        preferences=preferences(sub), zone=sub.timezone, kept_days=KEPT_DAYS,
        temperatures=temperature_pairs(store, sub, first))


def _started(sub: Subscriber) -> date | None:
    if not sub.created_at:
        return None
    try:
        moment = datetime.fromisoformat(sub.created_at.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.astimezone(ZoneInfo(sub.timezone)).date()


def _evenings(store: Store, sub: Subscriber, first: date, last: date) -> list[Evening]:
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    found = []
    for day, record in zip(days, store.nights.read_many(sub.id, days), strict=True):
        score = record.get("score", "")
        found.append(Evening(day, history.outcome(record), record.get("done") == "1",
                             int(score) if score.isdigit() else None,
                             "sent" in (record.get("sms"), record.get("email"))))
    return found


def _problems(store: Store, sub: Subscriber, first: date, now: datetime) -> list[Problem]:
    """Reports of the period: the closed ones (with their outcome), then the open ones."""
    zone = ZoneInfo(sub.timezone)
    closed = [p for p in foot_problems.episodes(store.consent_history(sub.id))
              if _local_day(p.closed_at, zone) >= first]
    still_open = foot_problems.open_reports(sub.id, flags.reports(store, sub, now))
    return closed + still_open


def _local_day(iso: str, zone: ZoneInfo) -> date:
    try:
        return datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(zone).date()
    except ValueError:
        return date.min


def _routines(renderer: Renderer, sub: Subscriber, evenings: list[Evening]
              ) -> list[tuple[str, int]]:
    """The routines of the evenings with DONE, most often first. The night record keeps no
    item ids: each evening's routine is chosen again (the selection depends only on the
    person, the date and their settings), so a setting changed since may name another one."""
    counts = Counter(renderer.select(sub, e.day).routine.short for e in evenings if e.done)
    return counts.most_common(TOP_ROUTINES)


def temperature_pairs(store: Store, sub: Subscriber, first: date) -> list[TemperaturePair]:
    """The person's TEMP readings since `first`, oldest first, in degrees Celsius (a reading
    texted in Fahrenheit is converted; the report and the export speak Celsius)."""
    def celsius(value: float, unit: Unit) -> float:
        return round(value if unit == Unit.C else (value - 32) * 5 / 9, 1)

    return [TemperaturePair(day, celsius(r.left, r.unit), celsius(r.right, r.unit))
            for day, r in sorted(store.temps.read(sub.id).items()) if day >= first]


def audit_line(store: Store, operator: str, what: str, sub: Subscriber) -> None:
    """The report is an operator action on a person's data: who, what, whose (by id)."""
    audit.record(store, operator, what, f"subscriber {sub.id}")
