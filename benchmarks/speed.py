"""Rows 4d-4f: sending at the provider's speed, the worker started exactly as compose starts it.

Twilio answers a message creation in roughly 0.1-0.5 s; here the fake Twilio API answers each
one after a fixed latency (`--latency`, testing/twilio_pace.py), and the worker is
`celery -A worker worker --loglevel=INFO` with nothing tuned by hand (its pool and size come
from the settings: SEND_CONCURRENCY threads). 4d/4e: TWILIO_MPS=225 at 200 / 500 ms, 4f:
TWILIO_MPS=1000 at 200 ms with two workers. The comparison, in the same run and measured the
same way: the one-ETA-task design (benchmarks/eta_app.py) as compose-like, a default prefork
worker, on the same slow provider.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, replace

from benchmarks import population
from benchmarks.common import Context, Row, fmt_ms, verdict, wait_until
from benchmarks.e2e import _sliding_max, start_eta_design
from benchmarks.stack import Fake, RssSampler, Sent, Service, wait_for_count

# (row, TWILIO_MPS, latency in seconds, people due at once, workers, goal for the ratio)
RUNS = (("4d", 225, "0.2", 3_000, 1, 0.95), ("4e", 225, "0.5", 3_000, 1, 0.90),
        ("4f", 1000, "0.2", 8_000, 2, None))
RSS_GOAL = 250 * 1024 * 1024
ETA_CROWD, ETA_LEAD, ETA_WINDOW = 3_000, 10.0, 20.0


@dataclass
class Run:
    row: str
    mps: int
    latency: str
    due: int
    workers: int
    goal: float | None
    rate: float  # segments per second, first to last message
    busiest: int  # most segments in any 1-s window
    peak_rss: int  # the largest worker's peak RSS
    cpu_ms: float  # CPU of workers + beat per message
    seconds: float
    duplicates: int
    missing: int
    concurrency_line: str


def segment_rate(sent: list[Sent]) -> tuple[float, float]:
    """Segments per second from the first message to the last (the first one's own segments
    are not counted: they mark the start), and that span in seconds."""
    ordered = sorted(sent, key=lambda s: s.at)
    span = ordered[-1].at - ordered[0].at if len(ordered) > 1 else 0.0
    total = sum(s.segments for s in ordered[1:])
    return (total / span if span else 0.0), span


def measure(ctx: Context, row: str, mps: int, latency: str, due: int, workers: int,
            goal: float | None) -> Run:
    client = ctx.client()
    client.flushall()
    fake = Fake(ctx, latency)
    env = ctx.env(TWILIO_API_URL=fake.url, TWILIO_MPS=str(mps))
    services: list[Service] = []
    try:
        services = [Service(ctx, env, f"{row}-{n}", None) for n in range(workers)]
        samplers = [RssSampler(service) for service in services]
        population.crowd_due_now(client, due)
        offset = fake.offset()
        cpu0 = sum(service.cpu() for service in services)
        services[0].start_beat()
        seen = wait_for_count(fake, offset, due, max(60.0, 4 * due * 2 / mps))
        cpu1 = sum(service.cpu() for service in services)
        peak = max(sampler.stop() for sampler in samplers)
        line = next((ln for ln in services[0].worker.log().splitlines()
                     if "concurrency:" in ln), "").strip()
    finally:
        for service in services:
            service.stop()
        fake.stop()
    if seen < due:
        raise RuntimeError(f"{row}: only {seen} of {due} messages were sent in time")
    sent = fake.sent(offset)
    # Timed by when each request arrived, as Twilio counts them: the fake's own scheduling
    # after its latency (a hundred handler threads waking) would blur acceptance times.
    arrived = [replace(s, at=s.received) for s in sent]
    rate, span = segment_rate(arrived)
    per_phone = Counter(s.to for s in sent)
    return Run(row, mps, latency, due, workers, goal, rate, _sliding_max(arrived), peak,
               (cpu1 - cpu0) * 1000 / len(sent), span,
               sum(n - 1 for n in per_phone.values()), due - len(per_phone), line)


def eta_design(ctx: Context, latency: str) -> tuple[float, int]:
    """benchmarks/eta_app.py's worker as compose would start it (the default prefork pool, one
    process per core), ETA_CROWD tasks due at once: segments per second over ETA_WINDOW s
    from its first message, and how many it sent in that time."""
    client = ctx.client()
    client.flushall()
    fake = Fake(ctx, latency)
    try:
        # As compose would start it: no options beyond the defaults (prefork, one per core).
        worker, offset = start_eta_design(ctx, fake, ETA_CROWD, "worker-eta-speed",
                                          lead=ETA_LEAD)
    except BaseException:
        fake.stop()
        raise
    try:
        wait_until(lambda: fake.sent(offset), ETA_LEAD + 60, "the ETA design's first text")
        first = fake.sent(offset)[0].at
        time.sleep(max(0.0, first + ETA_WINDOW + 0.5 - time.time()))
    finally:
        worker.stop()
        fake.stop()
        client.flushall()
    inside = [s for s in fake.sent(offset) if first <= s.at < first + ETA_WINDOW]
    return sum(s.segments for s in inside[1:]) / ETA_WINDOW, len(inside)


def run(ctx: Context) -> list[Row]:
    runs = [measure(ctx, *spec) for spec in RUNS]
    eta = {latency: eta_design(ctx, latency) for latency in sorted({r.latency for r in runs})}
    return [_row(r, eta[r.latency]) for r in runs]


def _row(r: Run, eta: tuple[float, int]) -> Row:
    ratio = r.rate / r.mps
    ok_rate = r.goal is None or ratio >= r.goal
    correct = r.duplicates == 0 and r.missing == 0
    ok = ok_rate and r.busiest <= r.mps and r.peak_rss <= RSS_GOAL and correct
    workers = "one worker" if r.workers == 1 else f"{r.workers} workers"
    goal = (f">= {r.goal} of {r.mps}, never > {r.mps} in any 1-s window, RSS <= 250 MB"
            if r.goal is not None else "report the ratio and the CPU per message")
    return Row(
        benchmark=(f"{r.row}. TWILIO_MPS={r.mps}, {float(r.latency) * 1000:.0f} ms per "
                   f"request, {r.due:,} due at once, {workers} as compose starts it"),
        figure=(f"{r.rate:.1f} segments/s = {ratio:.2f} of {r.mps}; busiest 1-s window "
                f"{r.busiest}; worker RSS {r.peak_rss / 2**20:.0f} MB; "
                f"{fmt_ms(r.cpu_ms / 1000)} CPU per message"),
        goal=goal,
        comparison=(f"one ETA task per reminder, default prefork worker, same provider: "
                    f"{eta[0]:.1f} segments/s ({eta[1]} texts in {ETA_WINDOW:.0f} s)"),
        verdict=verdict(ok) if r.goal is not None else "info",
        how=(f"`celery -A worker worker --loglevel=INFO` ({r.concurrency_line or '?'}) x "
             f"{r.workers} and beat, TWILIO_MPS={r.mps}; the fake Twilio API in its own "
             f"process answering every creation after {r.latency} s (--latency). Segments/s "
             f"from the first request to the last ({r.seconds:.1f} s; the fake's received_at, "
             f"when each creation request arrived, and num_segments); busiest window: the "
             f"most segments in any [t, t+1 s) "
             f"starting at a message; RSS: the largest worker's peak (sampled every "
             f"0.25 s); CPU: utime+stime of the workers and beat over the run, per message. "
             f"Each person got one text: duplicates {r.duplicates}, missing {r.missing}. "
             f"The ETA design (benchmarks/eta_app.py, no idempotency, no rate limit): "
             f"{ETA_CROWD:,} tasks with an ETA {ETA_LEAD:.0f} s ahead, its worker started "
             f"with Celery's defaults (prefork, one process per core), rate over "
             f"{ETA_WINDOW:.0f} s from its first message, same fake and latency."),
    )
