"""Row 3: rendering one subscriber's evening, per second on one core."""

from __future__ import annotations

import cProfile
import time
from collections.abc import Callable
from datetime import UTC, datetime

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from benchmarks import population
from benchmarks.common import Context, Row, fmt_rate, profile_text, verdict
from reminders.messages.render import Renderer
from reminders.settings import PROJECT_ROOT

GOAL = 5_000
PEOPLE = 30_000  # each rendered at most once, as on a real night: no cache hits
SECONDS = 2.0


def rate(work: Callable[[int], object], seconds: float = SECONDS) -> float:
    """Calls per second of work(i), for i = 0, 1, 2, ... over about `seconds`."""
    for i in range(50):  # warm up (template compilation, zoneinfo, ...)
        work(i)
    done, started = 50, time.perf_counter()
    deadline = started + seconds
    while True:
        for _ in range(100):
            work(done)
            done += 1
        now = time.perf_counter()
        if now >= deadline:
            return (done - 50) / (now - started)


def run(ctx: Context) -> list[Row]:
    renderer = Renderer(PROJECT_ROOT / "templates", "Foot Care Reminders", 2)
    now = datetime.now(UTC)
    day = now.date()
    people = [population.make(n, now) for n in range(PEOPLE)]
    unsubscribe = "http://127.0.0.1:8000/unsubscribe?token=" + "x" * 60

    def tonight(i: int) -> object:
        return renderer.tonight(people[i % PEOPLE], day, unsubscribe)

    def sms_only(i: int) -> object:
        sub = people[(i + PEOPLE // 2) % PEOPLE]  # other people than tonight() rendered
        return renderer.sms(sub, renderer.select(sub, day))

    # A plain Environment with the service's settings, so the floor has nothing of ours in it.
    template = Environment(loader=FileSystemLoader(str(PROJECT_ROOT / "templates")),
                           undefined=StrictUndefined, trim_blocks=True,
                           ).get_template("sms/nightly.txt.j2")
    fixed = {"name": "Ana", "check": "Check both feet, soles and between the toes.",
             "routine": "Sit down and draw 10 slow ankle circles each way.",
             "tip": "Rest your feet up on a pillow for 15 minutes.",
             "safety": "Use light pressure only.", "footer": 2, "header": True,
             "program_name": "Foot Care Reminders"}

    def bare(i: int) -> object:
        return template.render(**fixed)

    both, sms, floor = rate(tonight), rate(sms_only), rate(bare)
    if sms < GOAL:
        ctx.note("Profile: SMS render (select + Renderer.sms)", _profile(sms_only))
    segments = {renderer.sms(p, renderer.select(p, day)).segments
                for p in people[:200]}
    how_common = (f"{PEOPLE:,} different subscribers, each rendered at most once as on a real "
                  f"night (so no per-person cache helps, and tonight's items vary), one evening, "
                  f"one process on one core, timed over ~{SECONDS:.0f} s after a warm-up.")
    return [
        Row(benchmark="3a. Render SMS only (select + Renderer.sms)",
            figure=fmt_rate(sms), goal=f">= {GOAL:,}/s per core",
            comparison=f"bare Jinja2 render of the SMS template, fixed strings: "
                       f"{fmt_rate(floor)}",
            verdict=verdict(sms >= GOAL),
            how=(f"{how_common} What a send needs for the text: content selection, the "
                 f"template, GSM-7 normalisation, segment count, shorter variants until it "
                 f"fits SMS_MAX_SEGMENTS=2 (segments seen: {sorted(segments)}). The "
                 f"comparison renders sms/nightly.txt.j2 alone with fixed strings.")),
        Row(benchmark="3b. Render SMS + email (Renderer.tonight)",
            figure=fmt_rate(both), goal="(none: SMS goal above)",
            comparison=f"SMS only: {fmt_rate(sms)}",
            verdict="info",
            how=(f"{how_common} Renderer.tonight: selection, the SMS as above, and the "
                 f"email subject, text and HTML parts (what `preview` shows; a send renders "
                 f"only the channel it sends).")),
    ]


def _profile(work: Callable[[int], object]) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    for i in range(2_000):
        work(i)
    profiler.disable()
    return profile_text(profiler, "2 000 SMS renders under cProfile (tottime order):")
