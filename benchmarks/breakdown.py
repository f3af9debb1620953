"""Where one message's time goes (row 4a's diagnosis), in this process, without Celery.

Three figures, each CPU milliseconds per message in one process: the bare twilio-python call,
the service's Sender.deliver (reload, render, pace, claim, call, record), and, from row 4a, the
real worker (adds Celery's receive/ack/trace and the dispatcher's share). Plus a cProfile of
Sender.deliver, split into the Twilio call, rendering and Redis.
"""

from __future__ import annotations

import cProfile
import pstats
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from twilio.rest import Client

from benchmarks import population
from benchmarks.common import (
    FROM_NUMBER,
    PUBLIC_URL,
    Context,
    count_round_trips,
    profile_text,
    wait_until,
)
from benchmarks.stack import Fake, Service
from reminders.channels.twilio_sms import RebasedHttpClient
from reminders.settings import load_settings
from reminders.wiring import build
from testing.twilio_api import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN

COUNT = 600
WARM = 50


@dataclass
class Breakdown:
    bare_ms: float  # CPU per bare messages.create
    bare_rate: float
    deliver_ms: float  # CPU per Sender.deliver
    deliver_rate: float
    round_trips: float  # Redis round trips per deliver
    profile: str


def _timed(work: Any, items: list[Any]) -> tuple[float, float]:
    """(CPU ms per item, items per wall second)."""
    cpu, wall = time.process_time(), time.perf_counter()
    for item in items:
        work(item)
    return ((time.process_time() - cpu) * 1000 / len(items),
            len(items) / (time.perf_counter() - wall))


def measure(ctx: Context, fake: Fake, body: str) -> Breakdown:
    client = ctx.client()
    client.flushall()
    svc = build(load_settings(ctx.env(TWILIO_API_URL=fake.url, TWILIO_MPS="10000")))
    ids, evening, _ = population.crowd_due_now(client, WARM + 2 * COUNT, salt=6,
                                               first=500_000)
    twilio = Client(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN,
                    http_client=RebasedHttpClient(fake.url, 10.0))

    def bare(n: int) -> None:
        twilio.messages.create(to=population.phone(600_000 + n), body=body, from_=FROM_NUMBER,
                               status_callback=PUBLIC_URL + "/sms/status")

    def deliver(subscriber_id: str) -> None:
        svc.sender.deliver(subscriber_id, evening, datetime.now(UTC))

    for n in range(WARM):
        bare(n)
        deliver(ids[n])
    bare_ms, bare_rate = _timed(bare, list(range(WARM, WARM + COUNT)))
    calls = count_round_trips(svc.redis)
    deliver_ms, deliver_rate = _timed(deliver, ids[WARM:WARM + COUNT])
    trips = calls[0] / COUNT
    profiler = cProfile.Profile()
    profiler.enable()
    for subscriber_id in ids[WARM + COUNT:]:
        deliver(subscriber_id)
    profiler.disable()
    client.flushall()
    return Breakdown(bare_ms, bare_rate, deliver_ms, deliver_rate, trips,
                     _split(profiler) + "\n" + profile_text(
                         profiler, f"{COUNT} x Sender.deliver under cProfile (tottime order):",
                         16))


def _split(profiler: cProfile.Profile) -> str:
    """Cumulative time of the parts of Sender.deliver, as shares of the whole."""
    stats: dict[tuple[str, int, str], tuple[Any, ...]] = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    parts = {
        "Sender.deliver (whole)": ("reminders/delivery.py", {"deliver"}),
        "Twilio HTTP call (TwilioSms.send_sms)": ("transports/twilio_sms.py", {"send_sms"}),
        "  of which requests' proxy lookup in os.environ": ("requests/utils.py",
                                                           {"get_environ_proxies"}),
        "rendering (Renderer.select/sms/email)": ("reminders/render.py",
                                                  {"select", "sms", "email"}),
        "Redis commands (redis-py execute_command)": ("redis/client.py", {"execute_command"}),
    }
    found = {}
    for label, (path, names) in parts.items():
        found[label] = sum(v[3] for (file, _line, func), v in stats.items()
                           if file.endswith(path) and func in names)
    whole = found["Sender.deliver (whole)"] or 1.0
    lines = [f"{label}: {seconds * 1000 / COUNT:.2f} ms per message ({seconds / whole:.0%})"
             for label, seconds in found.items()]
    return "Sender.deliver, cumulative time per message under cProfile:\n" + "\n".join(lines)


def celery_floor(ctx: Context, service: Service, count: int = 2_000) -> float:
    """Worker CPU per send_reminder task for an unknown subscriber: Celery's own cost.

    Such a task does one HGETALL and one ZREM and returns; everything else is Celery (fetch,
    ack, trace, logging) and the pool.
    """
    from reminders.entry.celery.app import app

    if app.conf.broker_url != ctx.redis_url:
        raise RuntimeError("Celery is not configured for the bench Redis")
    client = ctx.client()
    day = datetime.now(UTC).date().isoformat()
    cpu0 = service.cpu()
    with app.producer_or_acquire() as producer:
        for n in range(count):
            app.send_task("reminders.send_reminder", args=(f"gone{n:08x}", day),
                          producer=producer)
    wait_until(lambda: client.llen("celery") == 0 and client.hlen("unacked") == 0, 120,
               "the worker to run the no-op tasks", interval=0.2)
    return (service.cpu() - cpu0) * 1000 / count
