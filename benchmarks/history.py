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
    ("1 bytes per subscriber (issue 13)",
     "MEMORY USAGE at 100,000: the due index, one sorted set (skiplist), 104 B a person; "
     "the subscriber hash 232 B (a 160-byte listpack allocation); every 12-character id "
     "stored as text in the due index, the phone index and the consent log",
     "due index in 16,384 listpack sorted sets plus a per-shard lower-bound index (claim "
     "still one script); one-letter hash field names, time, phone and creation time as "
     "integers; ids of nine random digits (integers to Redis). Old layouts read and moved",
     "100,000: 455 B (hash 232, phone 43, due 104, consent 55), measured 2026-12-06",
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
