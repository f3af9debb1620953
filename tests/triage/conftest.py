"""The triage corpus report, shown at the end of a run that measured it (see test_triage_corpus)."""

from __future__ import annotations

from typing import Any

# Lines of the per-level table; filled by test_triage_corpus, printed after the run.
TRIAGE_SUMMARY: list[str] = []


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if TRIAGE_SUMMARY:
        terminalreporter.section("triage corpus")
        for line in TRIAGE_SUMMARY:
            terminalreporter.write_line(line)
