"""One throughput limit for all workers together, counted in SMS segments per second.

Twilio's limits count segments, not messages, and they apply to the account, not to one
worker: so the limit lives in Redis. The Lua script keeps a single "next free instant" (a GCRA
without burst): a send of n segments takes n / MPS seconds of the schedule. Time comes from
Redis's own clock, so workers on machines with drifting clocks still agree.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import redis

from reminders.storage import keys
from reminders.storage.lua import script as lua_script

# GCRA without burst: a send of n segments books n / rate seconds from the later of the free
# instant and now. A sender that comes back a little late (it slept, it was descheduled) may
# still use the slot it missed, up to CATCH_UP seconds of it, so polling does not leak
# throughput; beyond that, idle time is not banked (no bursts after a quiet spell).
CATCH_UP = 0.005
# Booked slots reach the provider a few milliseconds apart from how they were booked (network,
# scheduling), so we pace under the limit: by 3 %, and by at least one whole message (its
# segments arrive together) where that is affordable, so one message arriving early does not
# tip a one-second window over.
HEADROOM = 0.97


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

    def try_acquire(self, segments: int) -> float:
        """0.0 if the send may go now (and its time is booked); else seconds to wait."""
        wait = self._acquire(keys=[keys.SMS_RATE],
                             args=[max(1, segments), self.interval, CATCH_UP])
        return float(wait)

    def acquire(self, segments: int, give_up_after: float) -> bool:
        """Wait for a slot; False if none comes within `give_up_after` seconds."""
        deadline = time.monotonic() + give_up_after
        while True:
            wait = self.try_acquire(segments)
            if wait <= 0:
                return True
            if time.monotonic() + wait > deadline:
                return False
            # Others poll too: never sleep long past the free instant, never spin.
            self.sleep(min(max(wait, 0.001), 1.0))
