"""What the profiles showed and what was changed, with the figures before and after.

Kept by hand (a run cannot measure code that is gone); every pair was measured with
`python -m benchmarks` on the same 2-core machine, on 2026-11-26, before and after the commit
named. BENCHMARKS.md prints it after the table.
"""

from __future__ import annotations

# (row, what the profile showed, what changed, before, after)
CHANGES: tuple[tuple[str, str, str, str, str], ...] = (
    ("2b/2c dispatch",
     "Celery's apply_async: about 0.3 ms of CPU and one round trip per task (routing, "
     "signals, argument reprs, an exchange copy per message)",
     "reminders/handoff.py: Celery builds each protocol-2 message, a claimed batch of 500 "
     "goes out in one LPUSH; the batch is rescheduled in one script call, not 500",
     "10,000 due: 1,568/s (apply_async), 3,305/s (kombu Producer.batch)",
     "10,000 due: ~15,000/s"),
    ("2b/2c dispatch, all Redis replies",
     "redis-py's pure-Python RESP3 parser was the top of the dispatch profile",
     "hiredis (redis-py's C parser) pinned as a dependency",
     "list hand-off, 10,000 due: 8,914/s",
     "17,422/s (with the single reschedule call)"),
    ("1 bytes per subscriber",
     "MEMORY USAGE: one string key per phone number (88 B), the id and default values "
     "repeated in every hash, long consent-log field names with the time twice",
     "phone/email indexes as fields of 16,384 bucket hashes; no id or defaults in the hash; "
     "short constant consent fields, time from the stream id",
     "571 B (hash 264, phone key 88, due 104, consent 78)",
     "413 B (hash 184, phone index 43, due 104, consent 54)"),
    ("1 bytes per subscriber (compact layout)",
     "MEMORY USAGE at 100,000: the due index, one sorted set (skiplist), 104 B a person; "
     "the subscriber hash 232 B (a 160-byte listpack allocation); every 12-character id "
     "stored as text in the due index, the phone index and the consent log",
     "due index in 16,384 listpack sorted sets plus a per-shard lower-bound index (claim "
     "still one script); one-letter hash field names, time, phone and creation time as "
     "integers; ids of nine random digits (integers to Redis). Old layouts read and moved",
     "100,000: 455 B (hash 232, phone 43, due 104, consent 55); 1,000,000: 439 B (hash "
     "232, phone 31, due 102, consent 55); measured 2026-12-06",
     "100,000: 341 B (hash 184, phone 33, due 39, consent 46); 1,000,000: 281 B (hash 184, "
     "phone 23, due 16, consent 46)"),
    ("4a end-to-end, per message",
     "cProfile of Sender.deliver: requests walked os.environ for proxy settings on every "
     "call, 13 % of a send; py-spy of the worker: 6 Redis round trips per text (a "
     "pipelined script costs an extra SCRIPT EXISTS)",
     "proxy and CA settings read once per client; the record, SID index and in-flight "
     "settle in one script call (4 round trips)",
     "Sender.deliver 2.45 ms CPU (bare call 1.32 ms)",
     "Sender.deliver 1.27 ms CPU (bare call 0.78 ms); Celery's own floor stays 1.4 ms"),
    ("4b/4c paced sends",
     "the fake's log: the first 6 texts of a run 4-26 ms apart (each worker's first send "
     "imported twilio's API modules, 40 ms, while holding its slot); slots lost when a "
     "poller woke late",
     "the transport imports them when built; a late poller may use the slot it missed "
     "(5 ms); one whole message of margin where that costs under 10 %",
     "MPS=50: 48.0/s, max 56 segments in a 1-s window (margin and catch-up in, modules not)",
     "MPS=50: 48.0/s, max 50; MPS=225: 218.3/s, max 222"),
    ("4d-4f at the provider's speed (threads worker)",
     "with 200 ms per creation, `celery -A worker worker` (prefork, one process per core) "
     "had 2 requests in flight: 19 segments/s at TWILIO_MPS=225; with dozens of threads, "
     "polling the rate limiter would cost each a Redis call per slot given to another",
     "the worker runs SEND_CONCURRENCY threads by default (worker_pool/worker_concurrency in "
     "the app's config); a sender books its future slot in one call and sleeps until it",
     "4d: 19 segments/s = 0.085 (the first run; 19.5 for the ETA design here)",
     "4d: 214.8 segments/s = 0.95, busiest second 224, RSS 85 MB"),
    ("4a CPU per message (batched hand-off)",
     "Celery's own cost per task (receive, ack, trace) 1.7 ms, more than Sender.deliver "
     "(1.57 ms) including the twilio-python call",
     "the dispatcher's hand-off puts up to 10 evenings in one reminders.send_batch task "
     "(each still keyed and claimed on its own); the threads pool has no pipe to its children",
     "3.27 ms CPU per message (prefork, one task per evening)",
     "1.89 ms (threads, send_batch)"),
    ("4d busiest second (late senders)",
     "the fake's log: with a hundred sender threads in one process, requests arrived up to "
     "~35 ms after their slot (waits for the GIL), landing on the next second's slots",
     "pacing 4 % under the limit (was 3 %); a sender more than 10 ms late for its slot books "
     "another",
     "busiest second 226 at TWILIO_MPS=225",
     "224"),
    ("6 worker memory (method)",
     "RSS grew once while the first 10,000 were sent (+590 B per reminder), not while they "
     "were scheduled",
     "more waves of 10,000 through the same worker tell warm-up from per-reminder state "
     "(five waves: +5.8, +0.9, +0.5, 0, 0 MB: it stops)",
     "first wave only: +1,417 B per reminder (reported as a failure)",
     "scheduled +0 B; second wave +79 to +105 B, third wave about +50 B per reminder"),
)


def markdown() -> list[str]:
    out = ["## Profiled and fixed (before and after)", "",
           "| row | the profile showed | change | before | after |", "|---|---|---|---|---|"]
    for row in CHANGES:
        out.append("| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |")
    return [*out, ""]
