"""`python -m benchmarks [--only NAME,...] [--output FILE]`: run the benchmarks.

Starts a private redis-server (free port, no persistence, noeviction), runs every benchmark
against it, stops everything it started, prints the table and writes BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import tempfile
import time
import traceback
from pathlib import Path
from types import FrameType, ModuleType

from rich.console import Console

from benchmarks import (
    dispatch,
    e2e,
    fhir,
    importer,
    log_mask,
    memory,
    operations,
    render,
    report,
    speed,
    webhook,
    worker_memory,
)
from benchmarks.common import (
    Contention,
    Context,
    Row,
    private_redis,
    running,
    stop_all,
)
from reminders.settings import PROJECT_ROOT

BUDGET_SECONDS = 3000.0  # whole run under 50 min (operations ~7, import ~7, FHIR ~5, a million ~6)
# (name, module, seconds it needs at least): row 6 uses the worker figures of row 4.
PLAN: tuple[tuple[str, ModuleType, float], ...] = (
    ("memory", memory, 400),
    ("dispatch", dispatch, 90),
    ("render", render, 20),
    ("e2e", e2e, 250),
    ("speed", speed, 200),
    ("worker_memory", worker_memory, 50),
    ("webhook", webhook, 45),
    ("import", importer, 300),
    ("log_mask", log_mask, 15),
    ("fhir", fhir, 450),
    ("operations", operations, 420),
)


def _interrupted(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def run_all(ctx: Context, only: set[str], console: Console) -> list[Row]:
    rows: list[Row] = []
    for name, module, needs in PLAN:
        if only and name not in only:
            continue
        if ctx.left() < needs:
            rows.append(Row(name, "not run", "-", "-", "skipped",
                            f"Skipped: {ctx.left():.0f} s of the time budget left, "
                            f"it needs about {needs:.0f} s."))
            continue
        started, mark, contention = time.monotonic(), running(), Contention()
        console.print(f"[bold]bench[/bold] {name} ...")
        try:
            got = module.run(ctx)
        except Exception as exc:  # one broken benchmark must not hide the others
            traceback.print_exc()
            stop_all(keep=mark)  # what it left running, not the bench Redis
            got = [Row(name, "error", "-", "-", "ERROR", f"{type(exc).__name__}: {exc}")]
        others = contention.share()
        for row in got:
            row.how += (f" While this ran ({time.monotonic() - started:.0f} s), other processes "
                        f"on the machine used {others:.0%} of its cores.")
        rows += got
        console.print(f"[bold]bench[/bold] {name} done in {time.monotonic() - started:.0f} s "
                      f"(other processes: {others:.0%} of the cores)")
    return sorted(rows, key=lambda r: r.benchmark)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("--only", default="", help="comma-separated: " +
                        ",".join(name for name, _m, _s in PLAN))
    parser.add_argument("--output", type=Path, default=PROJECT_ROOT / "BENCHMARKS.md")
    args = parser.parse_args(argv)
    only = {name.strip() for name in args.only.split(",") if name.strip()}
    console = Console(width=max(Console().width, 150))
    signal.signal(signal.SIGTERM, _interrupted)
    started, whole = time.monotonic(), Contention()
    workdir = Path(tempfile.mkdtemp(prefix="reminders-bench-"))
    ok = False
    try:
        with private_redis(workdir) as (url, pid):
            ctx = Context(url, pid, workdir, started + BUDGET_SECONDS)
            # This process's own load_settings() (the Celery app publishing in rows 2 and 6)
            # must see the bench Redis, never a REDIS_URL from the caller or from .env.
            os.environ.update(ctx.env())
            rows = run_all(ctx, only, console)
            info = report.machine()
            notes = ctx.notes
        ok = not any(r.verdict == "ERROR" for r in rows)
    finally:
        stop_all()
        if ok:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"bench: logs kept in {workdir}", file=sys.stderr)
    elapsed = time.monotonic() - started
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    info["other load"] = (f"other processes used {whole.share():.0%} of the cores during the "
                          f"run (load average at the end {load}); this machine is shared")
    report.print_table(rows, info, console)
    report.write(args.output, report.markdown(rows, info, notes, elapsed))
    console.print(f"wrote {args.output} ({elapsed:.0f} s)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
