"""One throughput limit for all workers together, counted in SMS segments per second.

Twilio's limits count segments, not messages, and they apply to the account, not to one
worker: so the limit lives in Redis. The Lua script keeps a single "next free instant" (a GCRA
without burst): a send of n segments takes n / MPS seconds of the schedule. Time comes from
Redis's own clock, so workers on machines with drifting clocks still agree. A sender books the
next free slot (now or a little later) in one call and sleeps until it starts.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import redis

from reminders.storage import keys
from reminders.storage.lua import script as lua_script

# GCRA without burst: a send of n segments books n / rate seconds from the later of the free
# instant and now, possibly in the future (the sender sleeps until its slot starts). A slot
# nobody booked in time is not banked beyond CATCH_UP seconds (no bursts after a quiet spell).
CATCH_UP = 0.005
# A sender that wakes this much after its booked slot books another rather than send late.
LATE_WAKE = 0.01
# Booked slots reach the provider some milliseconds apart from how they were booked (network,
# scheduling; with a hundred sender threads in one process, waits for the GIL: up to ~35 ms on
# a loaded 2-core machine, measured at the fake), so we pace under the limit: by 4 %, and by at
# least one whole message (its segments arrive together) where that is affordable, so messages
# arriving late into the next second do not tip that window over.
HEADROOM = 0.96


def paced_rate(per_second: float, max_segments: int) -> float:
    """The segments per second we book, for a provider limit of `per_second`."""
    margin = max(per_second * (1 - HEADROOM), min(max_segments, per_second * 0.1))
    return per_second - margin


class RateLimiter:
    def __init__(self, client: redis.Redis, per_second: float, max_segments: int = 1,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.redis = client
        self.interval = 1.0 / paced_rate(per_second, max_segments)
        self.sleep = sleep
        self._acquire = lua_script(client, "rate_acquire")

    def book(self, segments: int, horizon: float) -> tuple[bool, float]:
        """Book the next free slot if it starts within `horizon` seconds: (booked, seconds
        until it starts); not booked: (False, seconds until the next free slot)."""
        booked, wait = self._acquire(keys=[keys.SMS_RATE],
                                     args=[max(1, segments), self.interval, CATCH_UP, horizon])
        return bool(booked), float(wait)

    def try_acquire(self, segments: int) -> float:
        """0.0 if the send may go now (and its time is booked); else seconds to wait."""
        booked, wait = self.book(segments, 0.0)
        return 0.0 if booked else wait

    def acquire(self, segments: int, give_up_after: float) -> bool:
        """Book a slot and sleep until it starts; False (nothing booked) if the next free slot
        starts later than `give_up_after` seconds from now.

        One Redis call per send: with dozens of sender threads per worker, polling until the
        slot is free would cost each of them a call per slot handed to someone else (a
        thundering herd at every free instant). A booked slot is spent even if the send then
        does not happen (the circuit opened meanwhile): a little throughput, never a burst.
        """
        deadline = time.monotonic() + give_up_after
        while True:
            booked, wait = self.book(segments, max(0.0, deadline - time.monotonic()))
            if not booked or wait <= 0:
                return booked
            due = time.monotonic() + wait
            self.sleep(wait)
            if time.monotonic() - due <= LATE_WAKE:
                return True
            # Woke late (a busy machine, a thread that waited for the GIL): sent now, this
            # message would land on the slots booked after ours and tip a one-second window
            # over the limit. Its slot is lost instead (throughput, never a burst), as a
            # late poller's was.

