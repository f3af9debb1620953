"""Row 4: 10 000 subscribers due at once through real workers and beat, to the fake Twilio API.

4a: no rate limit, against a bare loop of twilio-python calls (as many processes as worker
pool processes). 4b, 4c: TWILIO_MPS=50 and 225, the achieved segment rate and our CPU use.
The no-limit run also records the worker's memory for row 6.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import redis

from benchmarks import breakdown, population
from benchmarks.common import (
    BIN,
    Context,
    Group,
    Row,
    cpu_seconds,
    fmt_rate,
    verdict,
    wait_until,
)
from benchmarks.stack import (
    Fake,
    RssSampler,
    Sent,
    Service,
    first_message,
    sleep_until,
    wait_for_count,
)
from reminders.messages.render import Renderer
from reminders.settings import PROJECT_ROOT

CROWD = 10_000
CONCURRENCY = 2
WARM = 20
GOAL_RATIO = 0.9
LIMITED = ((50, 1_300), (225, 3_600))  # TWILIO_MPS, subscribers due (more than the run sends)
WARMUP, WINDOW = 2.0, 20.0


@dataclass
class Unlimited:
    rate: float
    seconds: float
    cpu: float  # CPU seconds of worker + beat while sending
    fake_cpu: float
    redis_cpu: float
    duplicates: int
    missing: int
    floor_ms: float = 0.0  # worker CPU per send_reminder task that finds nobody (Celery's floor)


def sms_body() -> str:
    renderer = Renderer(PROJECT_ROOT / "templates", "Foot Care Reminders", 2)
    sub = population.make(0, datetime.now(UTC))
    day = datetime.now(UTC).date()
    return renderer.sms(sub, renderer.select(sub, day)).body


def rate_of(sent: list[Sent]) -> float:
    times = sorted(s.at for s in sent)
    return (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0


def bare_loop(ctx: Context, fake: Fake) -> float:
    start = ctx.workdir / "bare.start"
    offset = fake.offset()
    per = CROWD // CONCURRENCY
    body = sms_body()
    loops = [Group(f"bare-{i}", [str(BIN / "python"), "-m", "benchmarks.bare_twilio",
                                 "--url", fake.url, "--count", str(per), "--first",
                                 str(i * per), "--start-file", str(start), "--body", body],
                   {}, ctx.workdir / f"bare-{i}.log") for i in range(CONCURRENCY)]
    try:
        time.sleep(1.5)  # let both import twilio before the start signal
        start.touch()
        seen = wait_for_count(fake, offset, CROWD, 120)
        if seen < CROWD:
            raise RuntimeError(f"bare loop sent {seen} of {CROWD}")
        wait_until(lambda: not any(g.alive() for g in loops), 30, "the bare loops to exit")
    finally:
        for group in loops:
            group.stop()
    return rate_of(fake.sent(offset))


def unlimited(ctx: Context, fake: Fake) -> Unlimited:
    client = ctx.client()
    client.flushall()
    # As compose starts it (SEND_CONCURRENCY threads, here 100): nothing tuned by hand.
    service = Service(ctx, ctx.env(TWILIO_API_URL=fake.url, TWILIO_MPS="10000"), "e2e", None)
    try:
        service.start_beat()
        # Warm up: a few sends, so the worker has built its services and clients
        # and "idle" means an idle, warm worker, not one that has never sent anything.
        warm = fake.offset()
        population.crowd_due_now(client, WARM, salt=4, first=900_000)
        if wait_for_count(fake, warm, WARM, 60) < WARM:
            raise RuntimeError("warm-up messages were not sent")
        memory: dict[str, int] = {"idle": service.settle_rss(3.0)}
        # Written scheduled for tomorrow evening (never due before set_scores below: a beat
        # ticks every second and would otherwise send some of them before we measure).
        now = datetime.now(UTC)
        zone, local, _evening, instant = population.due_tonight(now)
        crowd = [population.make(n, now, zone, local, salt=1) for n in range(CROWD)]
        population.write(client, crowd, now)
        ids = [s.id for s in crowd]
        time.sleep(1)
        memory["scheduled"] = service.settle_rss(3.0)
        offset = fake.offset()
        cpu0, fake0, redis0 = service.cpu(), fake.cpu(), _redis_cpu(ctx)
        sampler = RssSampler(service)
        population.set_scores(client, ids, instant)  # tonight's instant: due now
        seen = _wait_sending(service, fake, offset, min(240, max(30, ctx.left() - 200)),
                             memory)
        cpu1, fake1, redis1 = service.cpu(), fake.cpu(), _redis_cpu(ctx)
        memory["peak"] = sampler.stop()
        time.sleep(1)
        memory["after"] = service.settle_rss()
        sent = fake.sent(offset)
        # Two more waves (see _another_wave): RSS after each, for row 6.
        memory["after_second"] = _another_wave(client, service, fake, 1)
        memory["after_third"] = _another_wave(client, service, fake, 2)
        ctx.shared["memory"] = memory
        floor = breakdown.celery_floor(ctx, service)
    finally:
        service.stop()
    per_phone = Counter(s.to for s in sent)
    times = [s.at for s in sent]
    if seen < CROWD:
        raise RuntimeError(f"only {seen} of {CROWD} messages were sent in time")
    return Unlimited(rate_of(sent), max(times) - min(times), cpu1 - cpu0, fake1 - fake0,
                     redis1 - redis0, sum(n - 1 for n in per_phone.values()),
                     CROWD - len(per_phone), floor)


ETA_LEAD = 20.0  # seconds between publishing the ETA tasks and their ETA


def start_eta_design(ctx: Context, fake: Fake, crowd: int, name: str,
                     extra: tuple[str, ...] = (), lead: float = ETA_LEAD) -> tuple[Group, int]:
    """Start benchmarks/eta_app.py's worker (`extra`: its command-line options beyond the
    defaults) and publish `crowd` tasks with an ETA `lead` seconds ahead, one per phone:
    the worker and the fake's log offset before the first of them."""
    from benchmarks import eta_app

    worker = Group(name, [str(BIN / "celery"), "-A", "benchmarks.eta_app", "worker",
                          "--loglevel=INFO", *extra, f"--hostname=bench-{name}@%h"],
                   {"ETA_BROKER_URL": ctx.redis_url, "ETA_TWILIO_URL": fake.url},
                   ctx.workdir / f"{name}.log")
    try:
        wait_until(lambda: "ready." in worker.log() or not worker.alive(), 90,
                   "the ETA-design worker to be ready", interval=0.2)
        eta_app.app.conf.update(broker_url=ctx.redis_url)
        body = sms_body()
        offset = fake.offset()
        eta = datetime.now(UTC) + timedelta(seconds=lead)
        with eta_app.app.producer_or_acquire() as producer:
            for n in range(crowd):
                eta_app.send_sms.apply_async((population.phone(n), body), eta=eta,
                                             producer=producer)
        if datetime.now(UTC) > eta:
            raise RuntimeError("publishing the ETA tasks took longer than their lead")
    except BaseException:
        worker.stop()
        raise
    return worker, offset


def eta_design(ctx: Context, fake: Fake) -> float:
    """The one-ETA-task-per-reminder design (benchmarks/eta_app.py): the same CROWD messages,
    the same worker concurrency, tasks published with an ETA and parked in the worker."""
    client = ctx.client()
    client.flushall()
    worker, offset = start_eta_design(ctx, fake, CROWD, "worker-eta", (
        f"--concurrency={CONCURRENCY}", "--without-gossip", "--without-mingle"))
    try:
        seen = wait_for_count(fake, offset, CROWD, ETA_LEAD + 120)
        if seen < CROWD:
            raise RuntimeError(f"the ETA design sent {seen} of {CROWD}")
    finally:
        worker.stop()
        client.flushall()
    return rate_of(fake.sent(offset))


def _another_wave(client: redis.Redis, service: Service, fake: Fake, number: int) -> int:
    """Another CROWD of other people through the same worker, then its idle RSS (for row 6):
    memory kept per reminder grows again with every wave; a warm-up (allocator arenas, pools,
    caches) grows less each time and stops."""
    now = datetime.now(UTC)
    zone, local, _evening, instant = population.due_tonight(now)
    wave = [population.make(n, now, zone, local, salt=7 + number)
            for n in range(number * CROWD, (number + 1) * CROWD)]
    population.write(client, wave, now)
    offset = fake.offset()
    population.set_scores(client, [s.id for s in wave], instant)
    if wait_for_count(fake, offset, CROWD, 180) < CROWD:
        raise RuntimeError(f"wave {number + 1} was not sent in time")
    time.sleep(1)
    return service.settle_rss()


def _wait_sending(service: Service, fake: Fake, offset: int, timeout: float,
                  memory: dict[str, int]) -> int:
    """Wait for all CROWD messages; note the worker's RSS when half of them are out."""
    deadline = time.monotonic() + timeout
    seen = fake.count(offset)
    while seen < CROWD and time.monotonic() < deadline:
        if "half" not in memory and seen >= CROWD // 2:
            memory["half"] = service.rss()
        time.sleep(0.1)
        seen = fake.count(offset)
    return seen


def _redis_cpu(ctx: Context) -> float:
    return cpu_seconds([ctx.redis_pid])


@dataclass
class Limited:
    mps: int
    rate: float
    aligned_max: int
    sliding_max: int
    cores: float
    ms_per_message: float
    messages: int


def limited(ctx: Context, fake: Fake, mps: int, crowd: int) -> Limited:
    client = ctx.client()
    client.flushall()
    population.crowd_due_now(client, crowd)
    offset = fake.offset()
    service = Service(ctx, ctx.env(TWILIO_API_URL=fake.url, TWILIO_MPS=str(mps)), f"mps{mps}",
                      None)
    try:
        service.start_beat()
        first = first_message(fake, offset, 60)
        sleep_until(first + WARMUP)
        cpu0 = service.cpu()
        sleep_until(first + WARMUP + WINDOW)
        cpu1 = service.cpu()
        time.sleep(0.5)
    finally:
        service.stop()
    sent = fake.sent(offset)
    start, end = first + WARMUP, first + WARMUP + WINDOW
    inside = [s for s in sent if start <= s.at < end]
    segments = sum(s.segments for s in inside)
    return Limited(mps, segments / WINDOW, _aligned_max(sent), _sliding_max(sent),
                   (cpu1 - cpu0) / WINDOW, (cpu1 - cpu0) * 1000 / max(1, len(inside)),
                   len(inside))


def _aligned_max(sent: list[Sent]) -> int:
    per_second: Counter[int] = Counter()
    for s in sent:
        per_second[int(s.at)] += s.segments
    return max(per_second.values(), default=0)


def _sliding_max(sent: list[Sent]) -> int:
    ordered = sorted(sent, key=lambda s: s.at)
    best, total, tail = 0, 0, 0
    for head in ordered:  # every window [t, t + 1 s) that starts at a send
        total += head.segments
        while ordered[tail].at <= head.at - 1.0:
            total -= ordered[tail].segments
            tail += 1
        best = max(best, total)
    return best


def run(ctx: Context) -> list[Row]:
    fake = Fake(ctx)
    try:
        bare = bare_loop(ctx, fake)
        eta = eta_design(ctx, fake)
        diagnosis = breakdown.measure(ctx, fake, sms_body())
        ours = unlimited(ctx, fake)
        limits = [limited(ctx, fake, mps, crowd) for mps, crowd in LIMITED]
    finally:
        fake.stop()
        ctx.client().flushall()
    if ours.rate < GOAL_RATIO * bare:
        ctx.note("Profile: one message, Sender.deliver without Celery", diagnosis.profile)
    return [_unlimited_row(ours, bare, eta, diagnosis),
            *(_limited_row(r) for r in limits)]


def _unlimited_row(ours: Unlimited, bare: float, eta: float, diag: breakdown.Breakdown
                   ) -> Row:
    ratio = ours.rate / bare if bare else 0.0
    cores = ours.cpu / ours.seconds if ours.seconds else 0.0
    correct = ours.duplicates == 0 and ours.missing == 0
    return Row(
        benchmark=f"4a. End-to-end, {CROWD:,} due at once, no rate limit",
        figure=f"{fmt_rate(ours.rate)} = {ratio:.2f} of the bare loop",
        goal=f">= {GOAL_RATIO} of the bare loop",
        comparison=(f"bare twilio-python loop, {CONCURRENCY} processes: {fmt_rate(bare)}; "
                    f"one ETA task per reminder (no idempotency): {fmt_rate(eta)} = "
                    f"{eta / bare if bare else 0:.2f} of the bare loop; ours = "
                    f"{ours.rate / eta if eta else 0:.2f} of the ETA design"),
        verdict=verdict(ratio >= GOAL_RATIO and correct),
        how=(f"{CROWD:,} confirmed SMS subscribers whose evening instant is this minute; a "
             f"real worker as compose starts it (`celery -A worker worker --loglevel=INFO`: "
             f"threads, SEND_CONCURRENCY=100; evenings handed out several to a send_batch "
             f"task) and beat "
             f"(DISPATCH_INTERVAL_SECONDS=1), TWILIO_MPS=10000 (the highest the settings "
             f"accept; never reached), the fake Twilio API (testing/twilio_api.py) in its "
             f"own process. Rate = (messages - 1) / (last - first) from the fake's log "
             f"(created_at), {ours.seconds:.1f} s from first to last message. Each person got "
             f"exactly one text: duplicates {ours.duplicates}, missing {ours.missing}. Our "
             f"processes (worker + pool + beat) used {cores:.2f} cores "
             f"({ours.cpu * 1000 / CROWD:.2f} ms CPU per message); the fake "
             f"{ours.fake_cpu / max(ours.seconds, 1e-9):.2f} cores, redis-server "
             f"{ours.redis_cpu / max(ours.seconds, 1e-9):.2f}. The bare loop: "
             f"{CONCURRENCY} processes each calling client.messages.create (same "
             f"RebasedHttpClient, same parameters and body) for {CROWD // CONCURRENCY:,} "
             f"messages, rate taken the same way from the fake's log. The ETA design "
             f"(benchmarks/eta_app.py): {CROWD:,} Celery tasks published with an ETA "
             f"{ETA_LEAD:.0f} s ahead to a prefork worker (--concurrency={CONCURRENCY}, "
             f"Celery's defaults, --loglevel=INFO like ours), each calling messages.create "
             f"with the same client and body and nothing else; rate taken the same way. "
             f"2 cores are shared by "
             f"everything. Where the time goes, CPU per message in one process without "
             f"Celery: the bare call {diag.bare_ms:.2f} ms ({diag.bare_rate:,.0f}/s), "
             f"Sender.deliver {diag.deliver_ms:.2f} ms ({diag.deliver_rate:,.0f}/s, "
             f"{diag.round_trips:.1f} Redis round trips); the real worker "
             f"{ours.cpu * 1000 / CROWD:.2f} ms (adds Celery's receive/ack/trace, shared by "
             f"the evenings of a send_batch task, and the dispatch); Celery's floor, a "
             f"send_reminder task for an unknown id on the same "
             f"worker, {ours.floor_ms:.2f} ms."),
    )


def _limited_row(r: Limited) -> Row:
    close = abs(r.rate - r.mps) <= 0.05 * r.mps
    return Row(
        benchmark=f"4{'b' if r.mps == 50 else 'c'}. TWILIO_MPS={r.mps}: achieved segment rate",
        figure=(f"{r.rate:.1f} segments/s; max in a 1-s window: {r.sliding_max} (sliding), "
                f"{r.aligned_max} (clock seconds)"),
        goal=f"within 5 % of {r.mps}, never above {r.mps} in any 1-s window",
        comparison=f"the limit: {r.mps}/s; our CPU {r.cores:.2f} cores "
                   f"({r.ms_per_message:.1f} ms per message)",
        verdict=verdict(close and r.sliding_max <= r.mps),
        how=(f"More subscribers due at once than the run can send; worker "
             f"as compose starts it (SEND_CONCURRENCY threads, sized from TWILIO_MPS) and "
             f"beat with TWILIO_MPS={r.mps}. From the fake's "
             f"log (created_at, num_segments): the segment rate over {WINDOW:.0f} s starting "
             f"{WARMUP:.0f} s after the first message ({r.messages} messages); the largest "
             f"number of segments in any one-second window [t, t+1) starting at a send, over "
             f"the whole run including its start, and in any clock second. CPU: utime+stime "
             f"from /proc of the worker (and any pool children) and beat over the same "
             f"{WINDOW:.0f} s, divided by the wall time."),
    )


