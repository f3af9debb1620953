"""A symptom score that is climbing: the rule that opens a review item and a coaching reply.

From SymptomCare@Home (chemotherapy neuropathy): a 0-10 score of 4 or more triggered coaching
and nurse follow-up. Here a score is worsening when it is 4 or more on 3 evenings in a row
(tonight and the two evenings before it, none missing), or 3 or more above the person's own
median of the 14 evenings before tonight (at least MIN_HISTORY of them scored, so one earlier
number is not a baseline).
"""

from __future__ import annotations

from statistics import median

HIGH = 4
IN_A_ROW = 3
ABOVE_MEDIAN = 3
BASELINE_EVENINGS = 14
MIN_HISTORY = 3


def worsening(tonight: int, earlier: list[int | None]) -> str:
    """Why tonight's score is worsening ("in_a_row" | "above_median"), or "" when it is not.

    `earlier`: the scores of the evenings before tonight, oldest first, the last one being
    yesterday; None for an evening without a score."""
    recent = earlier[-(IN_A_ROW - 1):] if IN_A_ROW > 1 else []
    if tonight >= HIGH and len(recent) == IN_A_ROW - 1 and all(
            score is not None and score >= HIGH for score in recent):
        return "in_a_row"
    baseline = [s for s in earlier[-BASELINE_EVENINGS:] if s is not None]
    if len(baseline) >= MIN_HISTORY and tonight >= median(baseline) + ABOVE_MEDIAN:
        return "above_median"
    return ""
