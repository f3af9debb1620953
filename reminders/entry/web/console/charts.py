"""Geometry of the console's charts, drawn as inline SVG by the templates (no script, no
library). Each series has its own fill pattern as well as its own colour, every bar has a
text title, and a table with the same numbers sits under each chart: readable without colour.
"""

from __future__ import annotations

from typing import Any

# (key, label, fill pattern id in templates/web/console/_patterns.html)
NIGHT_SERIES = (("sent", "Sent", "p-solid"), ("delivered", "Delivered", "p-stripes"),
                ("failed", "Failed", "p-dots"), ("missed", "Missed", "p-cross"))
PLOT_HEIGHT = 160
TOP, LEFT, BAR = 20, 40, 9


def nights_chart(nights: list[dict[str, Any]]) -> dict[str, Any]:
    """Grouped bars, oldest night first, from stats.compute's "nights" (sms + email added)."""
    rows = [{"date": n["date"], **{key: n["sms"][key] + n["email"][key]
                                   for key, _, _ in NIGHT_SERIES}} for n in reversed(nights)]
    top = max([1, *(row[key] for row in rows for key, _, _ in NIGHT_SERIES)])
    group = BAR * len(NIGHT_SERIES) + 14
    groups = []
    for n, row in enumerate(rows):
        x0 = LEFT + n * group
        bars = []
        for i, (key, label, pattern) in enumerate(NIGHT_SERIES):
            h = round(PLOT_HEIGHT * row[key] / top, 1)
            bars.append({"x": x0 + i * BAR, "y": TOP + PLOT_HEIGHT - h, "w": BAR - 1, "h": h,
                         "pattern": pattern, "title": f"{row['date']}: {label} {row[key]}"})
        groups.append({"x": x0 + BAR * len(NIGHT_SERIES) / 2, "label": row["date"][5:],
                       "bars": bars})
    return {"width": LEFT + group * len(rows) + 10, "height": TOP + PLOT_HEIGHT + 40,
            "base": TOP + PLOT_HEIGHT, "top": top, "top_y": TOP, "groups": groups,
            "series": NIGHT_SERIES, "rows": rows}


def person_chart(nights: list[dict[str, Any]]) -> dict[str, Any]:
    """30 columns: the symptom score as a bar (0-10), the outcome as a word-initial mark
    (D delivered, S sent, F failed, M missed, K skipped) and a check for DONE."""
    step, columns = 22, []
    for n, night in enumerate(nights):
        x = LEFT + n * step
        score = night["score"]
        h = round(PLOT_HEIGHT * score / 10, 1) if score is not None else 0
        columns.append({"x": x, "bar_y": TOP + PLOT_HEIGHT - h, "bar_h": h, "score": score,
                        "mark": MARKS.get(night["outcome"], ""), "done": night["done"],
                        "label": night["date"][8:], "title": _title(night)})
    return {"width": LEFT + step * len(nights) + 10, "height": TOP + PLOT_HEIGHT + 70,
            "base": TOP + PLOT_HEIGHT, "top_y": TOP, "step": step, "columns": columns}


MARKS = {"delivered": "D", "sent": "S", "failed": "F", "missed": "M", "skipped": "K"}


def _title(night: dict[str, Any]) -> str:
    parts = [night["date"], night["outcome"] or "nothing sent"]
    if night["done"]:
        parts.append("DONE")
    if night["score"] is not None:
        parts.append(f"score {night['score']}/10")
    return ", ".join(parts)


def _bars(rows: list[tuple[str, float, str]], step: int, gap: int) -> dict[str, Any]:
    """A bar chart's geometry: one bar per (label, height 0-1, title), `step` apart."""
    bars = []
    for n, (label, fraction, title) in enumerate(rows):
        h = round(PLOT_HEIGHT * fraction, 1)
        bars.append({"x": LEFT + n * step, "y": TOP + PLOT_HEIGHT - h, "w": step - gap, "h": h,
                     "label": label, "title": title})
    return {"width": LEFT + step * len(bars) + 10, "height": TOP + PLOT_HEIGHT + 40,
            "base": TOP + PLOT_HEIGHT, "top_y": TOP, "bars": bars}


def retention_chart(retention: list[dict[str, Any]]) -> dict[str, Any]:
    """One bar per program week (analytics.compute's "retention"): the share still subscribed,
    0-100 %, with its title; weeks nobody started in are left out."""
    return _bars([(str(row["week"]), row["share"],
                   f"week {row['week']}: {row['share']:.0%} of {row['started']} still subscribed")
                  for row in retention if row["share"] is not None], step=22, gap=4)


def engagement_chart(engagement: list[dict[str, Any]]) -> dict[str, Any]:
    """One bar per program week (analytics.compute's "engagement"): the share of delivered
    evenings answered with DONE or a score, 0-100 %; "none" (no start known) is left out."""
    return _bars([(str(row["week"]), row["share"],
                   f"week {row['week']}: {row['share']:.0%} of {row['delivered']} delivered "
                   "evenings answered")
                  for row in engagement
                  if row["share"] is not None and isinstance(row["week"], int)], step=22, gap=4)


def stop_words_chart(words: dict[str, int]) -> dict[str, Any]:
    """One bar per stop word (analytics.compute's "stopped_by_word"), most used first, scaled
    to the most used; "phrase" is a plain request to stop ("no more texts")."""
    rows = sorted(words.items(), key=lambda pair: (-pair[1], pair[0]))
    top = max([1, *words.values()])
    labels = [("request" if word == "phrase" else word.upper(), count) for word, count in rows]
    chart = _bars([(label, count / top, f"{label}: {count} opt-out(s)")
                   for label, count in labels], step=64, gap=8)
    return {**chart, "top": top}
