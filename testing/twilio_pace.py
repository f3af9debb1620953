"""The fake Twilio API's speed: a per-creation latency and an account concurrency limit.

Twilio answers a message creation in roughly 0.1-0.5 s over the internet, and refuses requests
beyond an account's concurrency limit (about 100 at once) with HTTP 429, error 20429, at once.
Against a fake that answers in a millisecond, a sender that works one request at a time looks
fast; with `latency` set, only one that keeps requests in flight reaches TWILIO_MPS.

The latency is a wait in the request's own handler thread (the server is a
ThreadingHTTPServer: one thread per connection), taken outside every lock, so a hundred
concurrent creations wait side by side rather than one after another.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from contextlib import contextmanager

Latency = float | tuple[float, float]


def parse_latency(text: str) -> Latency:
    """`0.2` (seconds, fixed) or `0.1,0.5` (uniform between the two)."""
    low, _, high = text.partition(",")
    return (float(low), float(high)) if high else float(low)


class Pace:
    """Mixed into FakeTwilio (which provides `_cond` and `_stopping`). Class-level defaults,
    so it needs nothing in FakeTwilio's __init__."""

    _cond: threading.Condition
    _stopping: threading.Event
    _latency: Latency = 0.0
    _max_concurrent: int | None = None
    _creating = 0  # message creations in progress now
    _busiest = 0  # the most there ever were at once (or refused for being over the limit)

    def set_latency(self, latency: Latency) -> None:
        """Every message creation takes `latency` seconds: fixed, or a (low, high) range drawn
        uniformly per request. The message is created at the end of the wait (a sender killed
        during it still gets its message sent, as at Twilio)."""
        with self._cond:
            self._latency = latency

    def limit_concurrency(self, n: int | None) -> None:
        """Refuse a creation with 429 / 20429 while `n` others are in progress (None: no
        limit), as Twilio does beyond an account's concurrent-request limit."""
        with self._cond:
            self._max_concurrent = n

    @property
    def busiest(self) -> int:
        """The most message creations that were ever in progress at once."""
        with self._cond:
            return self._busiest

    @contextmanager
    def _creating_one(self) -> Iterator[bool]:
        """Counts a creation in progress; yields False when it is over the limit (refuse it)."""
        with self._cond:
            limit = self._max_concurrent
            self._busiest = max(self._busiest, self._creating + 1)
            if limit is not None and self._creating >= limit:
                allowed = False
            else:
                allowed = True
                self._creating += 1
        try:
            yield allowed
        finally:
            if allowed:
                with self._cond:
                    self._creating -= 1

    def _wait_latency(self) -> None:
        with self._cond:
            latency = self._latency
        seconds = random.uniform(*latency) if isinstance(latency, tuple) else latency
        if seconds > 0:
            # Event.wait rather than sleep: stop() must not wait for a slow handler.
            self._stopping.wait(seconds)
