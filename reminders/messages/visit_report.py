"""The visit report as HTML (templates/report/visit.html.j2) and as a one-page PDF.

The PDF is WeasyPrint's rendering of the same HTML (print CSS in the template: A4 and US Letter
both fit, as the page box is the smaller of the two). The score chart is inline SVG drawn here:
black on white, dots joined by a line, gridlines every 2 points, both axes labelled, so it
reads the same on a black-and-white printer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from reminders.domain.visit_report import VisitFacts
from reminders.messages.environment import environment

TEMPLATE = "report/visit.html.j2"
# Chart geometry (SVG user units: 1 unit = 1 CSS px = 1/96 inch).
WIDTH, HEIGHT = 640, 180
LEFT, RIGHT, TOP, BOTTOM = 56, 30, 12, 46  # room for the last date label


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    label: str


def score_chart(first: date, last: date, scores: list[tuple[date, int]]) -> dict[str, Any]:
    """Positions for the chart of scores between `first` and `last` (inclusive)."""
    span = max(1, (last - first).days)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x_of(day: date) -> float:
        return round(LEFT + plot_w * (day - first).days / span, 1)

    def y_of(score: float) -> float:
        return round(TOP + plot_h * (1 - score / 10), 1)

    points = [Point(x_of(day), y_of(score), f"{day:%b} {day.day}: {score}")
              for day, score in scores]
    ticks = _date_ticks(first, last)
    return {
        "width": WIDTH, "height": HEIGHT, "left": LEFT, "right": WIDTH - RIGHT, "top": TOP,
        "bottom": TOP + plot_h,
        "y_ticks": [{"y": y_of(v), "label": str(v)} for v in range(0, 11, 2)],
        "x_ticks": [{"x": x_of(day), "label": f"{day:%b} {day.day}"} for day in ticks],
        "points": points,
        "path": " ".join(f"{'M' if n == 0 else 'L'}{p.x},{p.y}" for n, p in enumerate(points)),
    }


def _date_ticks(first: date, last: date, most: int = 7) -> list[date]:
    """Up to `most` evenly spaced dates, the first and the last among them."""
    days = (last - first).days
    if days <= 0:
        return [first]
    count = min(most - 1, days)
    return sorted({first + (last - first) * n / count for n in range(count + 1)})


PAPERS = ("letter", "a4")


class PdfUnavailable(RuntimeError):
    """WeasyPrint or its system libraries are missing on this machine."""


def html(templates_dir: Path, facts: VisitFacts, made: datetime, paper: str = "letter") -> str:
    chart = score_chart(facts.known_from, facts.last_day, facts.scores)
    return environment(templates_dir).get_template(TEMPLATE).render(
        f=facts, chart=chart, paper=paper if paper in PAPERS else "letter",
        made=f"{made:%Y-%m-%d %H:%M} UTC")


def pdf(templates_dir: Path, facts: VisitFacts, made: datetime, paper: str = "letter"
        ) -> bytes:
    """The report as PDF bytes (WeasyPrint, imported here: only this needs pango)."""
    try:
        from weasyprint import HTML
    except (ImportError, OSError) as exc:  # OSError: WeasyPrint found no pango library
        raise PdfUnavailable(
            "the PDF needs WeasyPrint and Debian's pango (apt-get install libpango-1.0-0 "
            f"libpangoft2-1.0-0; scripts/ensure_pdf_tools.sh), or use --format html ({exc})"
        ) from exc

    document = HTML(string=html(templates_dir, facts, made, paper),
                    base_url=str(templates_dir))
    data: bytes = document.write_pdf()
    return data
