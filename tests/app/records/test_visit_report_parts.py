"""The visit report's parts that need no Redis: foot problems paired from audit-log lines as
the service writes them, the chart's geometry, and the temperature table once readings exist."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from reminders.domain.foot_problems import Problem, episodes, outcome_of
from reminders.domain.visit_report import MAX_ROWS, Evening, TemperaturePair, VisitFacts
from reminders.messages import visit_report as printed
from reminders.settings import PROJECT_ROOT
from tests.conftest import need


def line(sub: str, action: str, at: str, words: str = "") -> dict[str, str]:
    return {"sub": sub, "action": action, "at": at, "words": words}


def test_each_close_pairs_with_that_persons_opening() -> None:
    log = [line("1", "flag:wound", "2026-11-02T03:00:00Z", "blister on my heel"),
           line("2", "flag:swelling", "2026-11-03T03:00:00Z", "ankle puffy"),
           line("1", "flag:redness", "2026-11-03T04:00:00Z"),  # while open: same problem
           line("2", "flag_cleared", "2026-11-04T15:00:00Z", "nurse@x.org: referred: podiatry"),
           line("1", "console_set", "2026-11-04T16:00:00Z", "nurse@x.org: time=20:00"),
           line("1", "flag_cleared", "2026-11-05T15:00:00Z", "cli:ana: reached: ok now"),
           line("1", "flag:wound", "2026-11-06T03:00:00Z")]  # still open: not in the log's list
    found = [(p.subscriber, p.category, p.at[:10], p.closed_at[:10], p.outcome)
             for p in episodes(log)]
    assert found == [("2", "swelling", "2026-11-03", "2026-11-04", "referred"),
                     ("1", "wound", "2026-11-02", "2026-11-05", "reached")]


def test_an_outcome_is_read_only_from_its_place() -> None:
    assert outcome_of("nurse@x.org: not_a_problem: it was a sock mark") == "not_a_problem"
    assert outcome_of("cli:bo: called, she was referred") == ""  # a note, not the outcome
    assert outcome_of("cli:bo") == ""  # an older close without an outcome


def test_the_chart_puts_ten_at_the_top_and_the_dates_in_order() -> None:
    chart = printed.score_chart(date(2026, 11, 1), date(2026, 11, 29),
                                [(date(2026, 11, 1), 0), (date(2026, 11, 29), 10)])
    first, last = chart["points"]
    assert (first.x, first.y) == (chart["left"], chart["bottom"])
    assert (last.x, last.y) == (chart["right"], chart["top"])
    xs = [t["x"] for t in chart["x_ticks"]]
    assert xs == sorted(xs) and chart["x_ticks"][0]["label"] == "Nov 1"
    assert [t["label"] for t in chart["y_ticks"]] == ["0", "2", "4", "6", "8", "10"]


def test_temperatures_show_once_there_are_some() -> None:
    facts = VisitFacts(
        name="Ana", handle="+13125550100", program="Foot Care", enrolled=None,
        first_day=date(2026, 11, 1), last_day=date(2026, 11, 28), known_from=date(2026, 11, 1),
        evenings=[Evening(date(2026, 11, 2), "delivered", True, 4, True)], problems=[],
        routines=[], preferences=[], temperatures=[TemperaturePair(date(2026, 11, 2), 31.0,
                                                                   33.4)])
    page = printed.html(PROJECT_ROOT / "templates", facts, datetime.now(UTC))
    assert "Foot temperatures" in page
    assert "<td>31.0 °C</td><td>33.4 °C</td><td>2.4 °C</td>" in page
    without = printed.html(PROJECT_ROOT / "templates",
                           VisitFacts(**{**facts.__dict__, "temperatures": []}),
                           datetime.now(UTC))
    assert "Foot temperatures" not in without


def test_a_busy_person_still_fits_one_page(tmp_path: Path) -> None:
    """Twenty problems, a month of temperatures, a score every evening, long routines."""
    need(shutil.which("pdfinfo") is not None, "pdfinfo (poppler-utils) is not installed")
    first = date(2026, 10, 1)
    days = [first + timedelta(days=n) for n in range(45)]
    problems = [Problem("1", f"2026-10-{n + 1:02d}T03:00:00Z", "wound", "same_day",
                        f"2026-10-{n + 2:02d}T15:00:00Z", "referred") for n in range(20)]
    facts = VisitFacts(
        name="Maria de los Angeles Fernandez Gutierrez", handle="+13125550100",
        program="Foot Care Reminders", enrolled=first, first_day=first, last_day=days[-1],
        known_from=first, evenings=[Evening(d, "delivered", True, n % 11, True)
                                    for n, d in enumerate(days)],
        # routines at the library's longest short wording (105 characters)
        problems=problems, routines=[(("x" * 8 + " ") * 11 + "xxxxx", 9)] * 3,
        preferences=[("Reminders by", "text message and email"),
                     ("Evening time", "10:30 PM (Argentina/ComodRivadavia time)"),
                     ("Language", "Spanish"), ("Massage routines", "yes"),
                     ("Warmth routines", "yes"), ("Cause of foot symptoms", "cancer treatment")],
        temperatures=[TemperaturePair(d, 30.5, 33.1) for d in days[:30]])
    pdf = tmp_path / "busy.pdf"
    pdf.write_bytes(printed.pdf(PROJECT_ROOT / "templates", facts, datetime.now(UTC)))
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True,
                          check=True).stdout
    assert re.search(r"^Pages:\s+1$", info, re.M), info
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert f"and {20 - MAX_ROWS} earlier" in text
