"""Rows 9 and 10: `reminders fhir-export` of 10,000 people's scores and of 1,000,000 consent
events, as a separate process against the bench Redis: wall time and the process's peak RSS.

Bounded memory is the claim: the export streams (a SCAN page of people, a page of log entries),
so its peak RSS must not grow with the data. The comparison, measured in the same run, is the
same export of a data set 100 times smaller: the two peaks should be about equal.
"""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path

import redis

from benchmarks.common import Context, Row, verdict
from reminders.domain.states import SmsStatus
from reminders.domain.subscriber import Subscriber
from reminders.settings import PROJECT_ROOT
from reminders.storage import keys
from reminders.storage.subscriber_codec import to_hash

PEOPLE = 10_000
EVENINGS = 30  # scores per person: 300,000 Observations
EVENTS = 1_000_000
SMALL = 100  # the comparison is this many times smaller
PAGE = 5_000
# The claim is bounded memory: the peak RSS stays under GOAL_MB and within FLAT_MB of the same
# export of 1/SMALL of the data. The time is a figure, not a goal: on this shared 2-core
# machine it moves with the other processes' load (the row says how much there was).
GOAL_MB = 200
FLAT_MB = 20
# Run the command in-process and report this process's own peak RSS (ru_maxrss, KiB).
PEAK = ("import resource, sys; from reminders.entry.cli.main import main; rc = main(sys.argv[1:]);"
        " print('PEAK_KB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr);"
        " sys.exit(rc)")


def _people(client: redis.Redis, count: int) -> list[str]:
    ids = [str(100_000_000 + n) for n in range(count)]
    with client.pipeline(transaction=False) as pipe:
        for n, subscriber_id in enumerate(ids):
            sub = Subscriber(id=subscriber_id, phone=f"+1312{3000000 + n}", email=None,
                             name=f"Person {n}", timezone="America/Chicago",
                             send_time=clock(20, 0), channels=frozenset({"sms"}),
                             sms_status=SmsStatus.ACTIVE,
                             created_at="2026-11-01T12:00:00Z")
            pipe.hset(keys.subscriber(subscriber_id), mapping=to_hash(sub))  # type: ignore[arg-type]
            if len(pipe) >= PAGE:
                pipe.execute()
        pipe.execute()
    return ids


def _scores(client: redis.Redis, ids: list[str], today: date) -> None:
    with client.pipeline(transaction=False) as pipe:
        for n, subscriber_id in enumerate(ids):
            for ago in range(1, EVENINGS + 1):
                day = today - timedelta(days=ago)
                pipe.hset(keys.night(subscriber_id, day), mapping={
                    "sms": "sent", "sms_status": "delivered", "score": str((n + ago) % 11),
                    "done": "1"})
                if len(pipe) >= PAGE:
                    pipe.execute()
        pipe.execute()


def _events(client: redis.Redis, ids: list[str], count: int) -> None:
    actions = (("subscribed", "cli"), ("opted_out", "sms"), ("opted_in", "sms"),
               ("console_set", "console"))
    with client.pipeline(transaction=False) as pipe:
        for n in range(count):
            action, source = actions[n % len(actions)]
            pipe.xadd(keys.CONSENT_LOG, {"s": ids[n % len(ids)], "c": "sms", "a": action,
                                         "o": source, "w": "STOP" if source == "sms" else "",
                                         "v": ""})
            if len(pipe) >= PAGE:
                pipe.execute()
        pipe.execute()


def _export(ctx: Context, out: Path) -> tuple[float, float, str]:
    """(seconds, peak RSS in MB, last line) of one export, a process of its own."""
    env = {**ctx.env(), "SMS_BACKEND": "console", "TWILIO_ACCOUNT_SID": ""}
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-c", PEAK, "fhir-export", "--out", str(out)],
                            cwd=PROJECT_ROOT, env=env, capture_output=True, text=True,
                            timeout=900)
    seconds = time.monotonic() - started
    if result.returncode != 0:
        raise RuntimeError(f"fhir-export failed: {result.stderr[-2000:]}")
    peak_kb = next(int(line.split()[1]) for line in result.stderr.splitlines()
                   if line.startswith("PEAK_KB"))
    return seconds, peak_kb / 1024, result.stdout.strip().replace("\n", "; ")


def _lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(1 for _ in handle)


def run(ctx: Context) -> list[Row]:
    client = ctx.client()
    today = datetime.now(UTC).date()
    rows = []
    for name, build, count_file, expected in (
            ("scores", lambda n: _scores(client, _people(client, n), today),
             "Observation.ndjson", PEOPLE * EVENINGS),
            ("consent", lambda n: _events(client, _people(client, n), n * EVENTS // PEOPLE),
             "Consent.ndjson", EVENTS * 3 // 4)):
        figures = []
        for size in (PEOPLE // SMALL, PEOPLE):
            client.flushall()
            build(size)
            out = ctx.workdir / f"fhir-{name}-{size}"
            seconds, peak, _summary = _export(ctx, out)
            got = _lines(out / count_file)
            figures.append((size, seconds, peak, got))
        client.flushall()
        (_, small_s, small_peak, _), (_, big_s, big_peak, got) = figures
        whole = expected if name == "scores" else EVENTS
        rate = whole / big_s
        ok = got == expected and big_peak < GOAL_MB and big_peak - small_peak < FLAT_MB
        label = (f"{PEOPLE:,} people x {EVENINGS} scores" if name == "scores"
                 else f"{EVENTS:,} consent events ({PEOPLE:,} people)")
        rows.append(Row(
            benchmark=f"9{'a' if name == 'scores' else 'b'}. FHIR export, {label}",
            figure=(f"{big_s:.1f} s ({rate:,.0f} records/s), peak RSS {big_peak:.0f} MB, "
                    f"{got:,} {count_file.split('.')[0]} resources"),
            goal=(f"peak RSS under {GOAL_MB} MB, within {FLAT_MB} MB of 1/{SMALL} of the data; "
                  "every record exported"),
            comparison=(f"1/{SMALL} of the data: {small_s:.1f} s, peak RSS "
                        f"{small_peak:.0f} MB ({big_peak - small_peak:+.0f} MB for "
                        f"{SMALL}x the data)"),
            verdict=verdict(ok),
            how=(f"`reminders fhir-export --out DIR` as a separate process (start-up and "
                 f"imports included; peak RSS is its own ru_maxrss) against the bench Redis "
                 f"holding {label} written straight into Redis "
                 + ("(night records with a score and DONE)" if name == "scores" else
                    "(a quarter of them audit lines, which are not Consent: "
                    f"{EVENTS * 3 // 4:,} Consent resources and {EVENTS // 2:,} "
                    "Communications of the texts STOP/START)") +
                 f"; the comparison is the same export of 1/{SMALL} of it, in the same run."),
        ))
    return rows
