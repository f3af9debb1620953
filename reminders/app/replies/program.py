"""How a person stays in the program: LESS / MORE (the lighter schedule or daily) and TEMP (foot
temperatures and the hotspot rule), for app/replies/inbound.py.

LESS / MORE are consent to how often we text: each change is a line in the consent log
(preferences.frequency_events). TEMP is offered only when an operator turned on
`temp_monitoring` (who is coached to use a thermometer is a clinical decision); a reading is
stored for its evening, and the rule (domain/temperature.py) decides: nothing, measure again
tomorrow, or a hotspot, which opens a `hotspot` flag at the same-day level through app/care/flags.py
(no massage, heat, walking or standing items until an operator closes it) and keeps the text
for a person in the inbox.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from reminders.app.care import flags
from reminders.app.care.foot_problems import Care
from reminders.app.people.preferences import frequency_events
from reminders.domain import temperature
from reminders.domain.frequency import DEFAULT_DAYS, LIGHTER, DaysError, parse_days
from reminders.domain.keywords import Command
from reminders.domain.subscriber import Subscriber
from reminders.domain.temperature import Problem, Verdict
from reminders.domain.triage import Level, Triage
from reminders.messages.replies import Replies
from reminders.storage.subscribers import Store

log = logging.getLogger(__name__)

HOTSPOT = "hotspot"  # the flag's category (DESIGN.md triage levels: same_day)


@dataclass
class Program:
    store: Store
    replies: Replies
    care: Care
    now: datetime
    # Called with the person once a hotspot flag opens (inbound.py: `reply --json`, and the
    # caregiver's alert, which names the category, never the numbers).
    on_hotspot: Callable[[Subscriber], object] | None = None

    def frequency(self, sub: Subscriber, command: Command) -> str:
        """LESS [days] / MENOS [dias]: the lighter schedule; MORE / MAS: back to daily."""
        if command.arg == "more":
            after = sub.with_changes(frequency="daily")
        else:
            named = command.arg.split()[1:]
            try:
                days = parse_days(" ".join(named)) if named else (sub.routine_days or DEFAULT_DAYS)
            except DaysError:
                return self.replies.render("frequency_days_invalid")
            after = sub.with_changes(frequency=LIGHTER,
                                     routine_days=() if days == DEFAULT_DAYS else days)
        events = frequency_events(sub, after, "sms", command.words)
        if events:
            self.store.save(sub, after, events, self.now)
        if after.frequency == LIGHTER:
            return self.replies.render("frequency_lighter",
                                       days=list(after.routine_days or DEFAULT_DAYS))
        return self.replies.render("frequency_daily")

    def temp(self, sub: Subscriber, command: Command, evening: date) -> str:
        """TEMP left right, for `evening` (a text just after midnight: the one before):
        acknowledge, and act on the rule (module docstring)."""
        if not sub.temp_monitoring:
            return self.replies.render("temp_off")
        reading = temperature.parse(command.arg)
        if reading == Problem.FORMAT:
            return self.replies.render("temp_format")
        if reading == Problem.IMPLAUSIBLE or not isinstance(reading, temperature.Reading):
            return self.replies.render("temp_implausible")
        history = self.store.temps.read(sub.id)
        history.pop(evening, None)
        self.store.temps.save(sub.id, evening, reading)
        found = temperature.verdict(reading, evening, history)
        log.info("temp subscriber=%s evening=%s difference_c=%s verdict=%s", sub.id, evening,
                 reading.difference_c, found)
        values = {"left": f"{reading.left:g}", "right": f"{reading.right:g}",
                  "unit": str(reading.unit), "difference": f"{reading.difference:g}",
                  "warmer": reading.warmer}
        if found == Verdict.HOTSPOT:
            self._open_hotspot(sub, command.words)
        return self.replies.render(f"temp_{found}", **values)

    def _open_hotspot(self, sub: Subscriber, words: str) -> None:
        """One flag per hotspot: a third warm evening while it is open adds no second one."""
        open_reports = flags.reports(self.store, sub, self.now)
        if any(report.get("category") == HOTSPOT for report in open_reports):
            return
        flags.record(self.store, sub, HOTSPOT, str(Level.SAME_DAY), words, self.now)
        self.care.keep(sub.phone or "", sub, words, Triage(Level.SAME_DAY, HOTSPOT))
        log.warning("flag subscriber=%s level=same_day category=%s", sub.id, HOTSPOT)
        if self.on_hotspot is not None:
            self.on_hotspot(sub)


def temperature_history(store: Store, sub: Subscriber, evenings: int = 14
                        ) -> list[tuple[date, float, bool]]:
    """The person's last `evenings` TEMP readings as (evening, left-right difference in °C,
    over the threshold), oldest first: the console's person page."""
    return temperature.differences(store.temps.read(sub.id))[-evenings:]
