"""Row 5: latency of signed inbound-SMS webhooks at 200 requests per second, under gunicorn."""

from __future__ import annotations

import json
import statistics
from datetime import UTC, datetime

import redis
import requests
from twilio.request_validator import RequestValidator

from benchmarks import population
from benchmarks.common import (
    BIN,
    FROM_NUMBER,
    PUBLIC_URL,
    Context,
    Group,
    Row,
    cpu_seconds,
    free_port,
    verdict,
    wait_until,
)
from reminders.storage import keys
from testing.twilio_api import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN

RATE = 200
SECONDS = 10
PEOPLE = RATE * SECONDS  # one text per person: the per-number reply limit never kicks in
THREADS = 32
GOAL_P99 = 0.100
WARM = 100
BODIES = ("7", "DONE", "pain 4", "HELP")


def inbound_requests(first: int = 0, count: int = PEOPLE) -> list[dict[str, object]]:
    validator = RequestValidator(DEFAULT_AUTH_TOKEN)
    found: list[dict[str, object]] = []
    for n in range(first, first + count):
        params = {"From": population.phone(n), "To": FROM_NUMBER, "Body": BODIES[n % 4],
                  "MessageSid": f"SM{n:032x}", "AccountSid": DEFAULT_ACCOUNT_SID, "NumMedia": "0"}
        signature = validator.compute_signature(PUBLIC_URL + "/sms/inbound", params)
        found.append({"method": "POST", "path": "/sms/inbound", "data": params,
                      "headers": {"X-Twilio-Signature": signature}})
    return found


def load(ctx: Context, base_url: str, name: str, reqs: list[dict[str, object]]
         ) -> list[list[float]]:
    spec, out = ctx.workdir / f"{name}.spec.json", ctx.workdir / f"{name}.results.json"
    spec.write_text(json.dumps({"base_url": base_url, "rate": RATE, "threads": THREADS,
                                "requests": reqs}))
    group = Group(f"loadgen-{name}", [str(BIN / "python"), "-m", "benchmarks.loadgen",
                                      str(spec), str(out)], {}, ctx.workdir / f"{name}.log")
    try:
        group.proc.wait(SECONDS + 60)
    finally:
        group.stop()
    results: list[list[float]] = json.loads(out.read_text())
    return results


def percentiles(results: list[list[float]], from_send: bool = False
                ) -> tuple[float, float, int]:
    """p50, p99 (from the scheduled instant, or from when the request was really sent)."""
    latencies = sorted(r[1] - r[3] if from_send else r[1] for r in results)
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    errors = sum(1 for r in results if r[2] != 200) + PEOPLE - len(results)
    return cuts[49], cuts[98], errors


def run(ctx: Context) -> list[Row]:
    client = ctx.client()
    client.flushall()
    now = datetime.now(UTC)
    population.write(client, (population.make(n, now) for n in range(PEOPLE + WARM)), now)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    web = Group("gunicorn", [str(BIN / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{port}",
                             "reminders.web:wsgi_app()"], ctx.env(), ctx.workdir / "web.log")
    try:
        wait_until(lambda: _healthy(base), 60, "gunicorn to answer /healthz", interval=0.2)
        _warm_up(base)
        cpu0 = cpu_seconds(web.pids())
        inbound = load(ctx, base, "inbound", inbound_requests())
        cpu1 = cpu_seconds(web.pids())
        health = load(ctx, base, "healthz", [{"method": "GET", "path": "/healthz"}] * PEOPLE)
    finally:
        web.stop()
    scored = _scores_stored(client, {population.make(n, now).id for n in range(0, PEOPLE, 4)})
    client.flushall()
    p50, p99, errors = percentiles(inbound)
    s50, s99, _ = percentiles(inbound, from_send=True)
    lag = statistics.quantiles(sorted(r[3] for r in inbound), n=100, method="inclusive")[98]
    h50, h99, h_errors = percentiles(health)
    return [Row(
        benchmark=f"5. Inbound webhook, {RATE} signed requests/s",
        figure=(f"p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, {errors} errors (from "
                f"the actual send: p50 {s50 * 1000:.1f} ms, p99 {s99 * 1000:.1f} ms)"),
        goal=f"p99 <= {GOAL_P99 * 1000:.0f} ms, no errors (ours: no number was asked for)",
        comparison=(f"GET /healthz at the same rate: p50 {h50 * 1000:.1f} ms, "
                    f"p99 {h99 * 1000:.1f} ms, {h_errors} errors"),
        verdict=verdict(p99 <= GOAL_P99 and errors == 0),
        how=(f"gunicorn -w 2 (sync workers) 'reminders.web:wsgi_app()' against the bench "
             f"Redis holding {PEOPLE:,} subscribers. A separate process sends {PEOPLE:,} POST "
             f"/sms/inbound, each from a different subscriber, signed with twilio's "
             f"RequestValidator for PUBLIC_URL, at a fixed {RATE}/s for {SECONDS} s (open "
             f"loop: latency counted from each request's scheduled instant; {THREADS} "
             f"threads with requests sessions; gunicorn's sync workers close the connection "
             f"after each answer; the generator started 99 % of requests within "
             f"{lag * 1000:.1f} ms of their instant: when that is large, the machine starved "
             f"the generator too, and the figures from the actual send are the server's "
             f"share). Bodies rotate: a score '7', DONE "
             f"(saves the streak), 'pain 4', HELP; {scored} of the {PEOPLE // 4} '7' scores "
             f"were found stored afterwards. gunicorn used {(cpu1 - cpu0) / SECONDS:.2f} "
             f"cores. Before measuring, {WARM} texts warmed both workers up. The comparison "
             f"is the cheapest route through the same stack (Flask and "
             f"one Redis PING)."),
    )]


def _warm_up(base: str) -> None:
    """A server in production is warm: let both workers answer some texts first."""
    with requests.Session() as session:
        for req in inbound_requests(PEOPLE, WARM):
            session.post(base + str(req["path"]), data=req["data"],  # type: ignore[arg-type]
                         headers=req["headers"], timeout=10)  # type: ignore[arg-type]


def _healthy(base: str) -> bool:
    try:
        return requests.get(base + "/healthz", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def _scores_stored(client: redis.Redis, ids: set[str]) -> int:
    """Night records of these subscribers holding the score '7' the webhook was asked to save."""
    names = [name for name in client.scan_iter(match=f"{keys.PREFIX}night:*", count=1000)
             if name.decode().split(":")[2] in ids]
    with client.pipeline(transaction=False) as pipe:
        for name in names:
            pipe.hget(name, "score")
        values = pipe.execute()
    return sum(1 for value in values if value == b"7")
