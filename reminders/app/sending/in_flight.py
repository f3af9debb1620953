"""How many provider requests this worker has in flight: at most SEND_CONCURRENCY, fewer for a
while after the provider answers 429 "too many concurrent requests" (Twilio's account limit).

AIMD, as TCP does with its congestion window: a 429 halves the window, and each window's worth
of successful sends adds one back, up to SEND_CONCURRENCY. Sends that were already in flight
when the window was cut do not cut it again (they saw the same overload), so a burst of 429s
halves it once, not down to one. The state is per process: each worker backs off on its own,
and together they shrink until the account's limit is respected.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

log = logging.getLogger(__name__)



class SendWindow:
    def __init__(self, ceiling: int) -> None:
        self.ceiling = max(1, ceiling)
        self.limit = self.ceiling
        self.in_flight = 0
        self._generation = 0  # bumped at each cut: who started before it does not cut again
        self._successes = 0
        self._cond = threading.Condition()
        self._local = threading.local()

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one of the window's places for the duration of a send."""
        with self._cond:
            while self.in_flight >= self.limit:
                self._cond.wait()
            self.in_flight += 1
            self._local.generation = self._generation
        try:
            yield
        finally:
            with self._cond:
                self.in_flight -= 1
                self._cond.notify()

    def succeeded(self) -> None:
        with self._cond:
            if self.limit >= self.ceiling:
                return
            self._successes += 1
            if self._successes >= self.limit:
                self._successes = 0
                self.limit += 1
                self._cond.notify()
                if self.limit == self.ceiling:
                    log.info("send concurrency back to %d", self.limit)

    def overloaded(self) -> bool:
        """The provider said too many requests at once: halve the window (once per burst).
        True if this call cut it."""
        with self._cond:
            if getattr(self._local, "generation", self._generation) != self._generation:
                return False
            self._generation += 1
            self._successes = 0
            before, self.limit = self.limit, max(1, self.limit // 2)
        log.warning("send concurrency lowered from %d to %d: the provider answered 429 (too "
                    "many concurrent requests); +1 per %d successful sends, up to %d", before,
                    self.limit, self.limit, self.ceiling)
        return True
