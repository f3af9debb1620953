"""A paced channel's way through the shared limits: the circuit, a rate-limit slot, and a send
that reaches the wire inside that slot.

A slot is booked in Redis (storage/rate_limit.py) and the sender sleeps until it starts; the
request must then be on the wire within WIRE_SLACK of it. One that would be later (the worker
was descheduled between its slot and its request) is not sent: a new slot is booked, so texts
reach the provider paced even on a starved machine.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from reminders.app.sending.retry import RetryLater
from reminders.channels.base import DeliveryError, Receipt, SlotMissed
from reminders.storage import counters
from reminders.storage.circuit import Circuit
from reminders.storage.counters import Counters
from reminders.storage.rate_limit import RateLimiter

# How long an operator's send-now may wait for a slot (it has no evening deadline).
SEND_NOW_PACING_WAIT = 300.0
# Slots booked again for one text whose request kept missing the wire (a starved machine).
LATE_SLOT_TRIES = 5


class Paced(NamedTuple):
    now: datetime
    send_by: float | None  # time.monotonic() instant the request must be on the wire by


class Pacer:
    def __init__(self, counted: Counters, limiter: RateLimiter | None,
                 circuit: Circuit | None, own: dict[str, RateLimiter] | None = None) -> None:
        self.counted = counted
        self.limiter = limiter
        self.circuit = circuit
        # Channels with a pace of their own (calls: TWILIO_CPS); the others share `limiter`.
        self.own = own or {}

    def for_channel(self, channel: str) -> Pacer:
        """The pacer of `channel`: its own limiter if it has one, the same circuit."""
        if channel not in self.own:
            return self
        return Pacer(self.counted, self.own[channel], self.circuit, self.own)

    def gate(self, segments: int, now: datetime, deadline: datetime | None) -> Paced | None:
        """Before an SMS claim: the circuit (asked first, so a stopped account takes no
        rate-limit slot for nothing), then a slot; the new `now`, or None when no slot comes
        before `deadline` (the evening is missed)."""
        stop = self.circuit.paused() if self.circuit is not None else None
        if stop is not None:
            raise RetryLater(stop.seconds, f"circuit-open: sending stopped ({stop.reason})")
        if self.limiter is None:
            return Paced(now, None)
        started = time.monotonic()
        slot = self.limiter.acquire(segments, give_up_after=self._left(deadline, now))
        if slot is None:
            return None
        return Paced(now + timedelta(seconds=time.monotonic() - started), slot.send_by)

    def send(self, attempt: Callable[[float | None], Receipt], segments: int,
             send_by: float | None, deadline: datetime | None, channel: str = "sms"
             ) -> Receipt:
        """`attempt(send_by)` inside the booked slot, booking a new one when the request would
        reach the wire late. Nothing was sent on a SlotMissed, so trying again is safe."""
        for _ in range(LATE_SLOT_TRIES):
            try:
                return attempt(send_by)
            except SlotMissed:
                self.counted.incr(counters.late_slots(channel))
                assert self.limiter is not None  # only a slot sets send_by
                slot = self.limiter.acquire(
                    segments, give_up_after=self._left(deadline, datetime.now(UTC)))
                if slot is None:
                    break
                send_by = slot.send_by
        raise DeliveryError("no rate-limit slot reached the wire in time", code="late-slot")

    @staticmethod
    def _left(deadline: datetime | None, now: datetime) -> float:
        if deadline is None:
            return SEND_NOW_PACING_WAIT
        return max(0.0, (deadline - now).total_seconds())
