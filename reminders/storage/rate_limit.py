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
from dataclasses import dataclass

import redis

from reminders.storage import keys
from reminders.storage.lua import script as lua_script

# GCRA without burst: a send of n segments books n / rate seconds from the later of the free
# instant and now, possibly in the future (the sender sleeps until its slot starts). A slot
# nobody booked in time is not banked beyond CATCH_UP seconds (no bursts after a quiet spell).
CATCH_UP = 0.005
# A sender that wakes this much after its booked slot books another rather than send late.
LATE_WAKE = 0.01
# A request must reach the wire within this much of its slot (checked just before the bytes
# are written, channels/twilio_sms.py); a later one books a new slot instead. Between the
# wake-up and the wire lie a Redis claim and an HTTP request being built: on a starved 2-core
# machine a process can be descheduled there for 150 ms, and its texts then reached the
# provider in a bunch (42-44 segments in one second at a limit of 40, measured at the fake).
WIRE_SLACK = 0.025
# Booked slots reach the provider some milliseconds apart from how they were booked (network,
# scheduling; with a hundred sender threads in one process, waits for the GIL: up to ~35 ms on
# a loaded 2-core machine, measured at the fake), so we pace under the limit: by 4 %, and by at
# least one whole message (its segments arrive together) where that is affordable, so messages
# arriving late into the next second do not tip that window over.
HEADROOM = 0.96


def paced_rate(per_second: float, max_segments: int) -> float:
    """The segments per second we book, for a provider limit of `per_second`.

    Slots are exact, arrivals are not: in any one-second window of arrivals lie the slots of
    1 + WIRE_SLACK seconds, plus one message at the window's edge. The margin keeps those under
    the limit where that is affordable (never more than 10 % of a small limit).
    """
    edge = max_segments + per_second * WIRE_SLACK
    margin = max(per_second * (1 - HEADROOM), min(edge, per_second * 0.1))
    return per_second - margin


@dataclass(frozen=True)
class Slot:
    """A booked slot: `starts` on this process's time.monotonic() clock (never before the
    booked instant: the answer's trip only delays it), `booked` on the Redis clock that every
    worker shares (the schedule itself). Truthy, so `if not acquire()` reads as before."""

    starts: float
    booked: float

    @property
    def send_by(self) -> float:
        """The last instant (time.monotonic()) at which the request may reach the wire."""
        return self.starts + WIRE_SLACK


class RateLimiter:
    def __init__(self, client: redis.Redis, per_second: float, max_segments: int = 1,
                 sleep: Callable[[float], None] = time.sleep, key: str = keys.SMS_RATE
                 ) -> None:
        self.redis = client
        self.key = key  # whose pace: texts (TWILIO_MPS) or calls (keys.VOICE_RATE, TWILIO_CPS)
        self.interval = 1.0 / paced_rate(per_second, max_segments)
        self.sleep = sleep
        self._acquire = lua_script(client, "rate_acquire")

    def book(self, segments: int, horizon: float) -> tuple[bool, float]:
        """Book the next free slot if it starts within `horizon` seconds: (booked, seconds
        until it starts); not booked: (False, seconds until the next free slot)."""
        booked, wait, _ = self._book(segments, horizon)
        return booked, wait

    def _book(self, segments: int, horizon: float) -> tuple[bool, float, float]:
        booked, wait, start = self._acquire(
            keys=[self.key], args=[max(1, segments), self.interval, CATCH_UP, horizon])
        return bool(booked), float(wait), float(start)

    def try_acquire(self, segments: int) -> float:
        """0.0 if the send may go now (and its time is booked); else seconds to wait."""
        booked, wait = self.book(segments, 0.0)
        return 0.0 if booked else wait

    def acquire(self, segments: int, give_up_after: float) -> Slot | None:
        """Book a slot and sleep until it starts; None (nothing booked) if the next free slot
        starts later than `give_up_after` seconds from now.

        One Redis call per send: with dozens of sender threads per worker, polling until the
        slot is free would cost each of them a call per slot handed to someone else (a
        thundering herd at every free instant). A booked slot is spent even if the send then
        does not happen (the circuit opened meanwhile): a little throughput, never a burst.
        """
        deadline = time.monotonic() + give_up_after
        while True:
            asked = time.monotonic()
            booked, wait, start = self._book(segments, max(0.0, deadline - asked))
            if not booked:
                return None
            if wait <= 0:
                return Slot(asked, start)
            due = time.monotonic() + wait
            self.sleep(wait)
            if time.monotonic() - due <= LATE_WAKE:
                return Slot(due, start)
            # Woke late (a busy machine, a thread that waited for the GIL): sent now, this
            # message would land on the slots booked after ours and tip a one-second window
            # over the limit. Its slot is lost instead (throughput, never a burst), as a
            # late poller's was.

