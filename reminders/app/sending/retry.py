"""What a send attempt raises when the message must be tried again later, how two channels'
reasons to wait combine into one retry, and what an evening's attempt did (Outcome). Imports
nothing of app/: delivery, send_path and recovery all import it, never the other way round."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass
class Outcome:
    subscriber_id: str
    local_date: date
    channels: dict[str, str] = field(default_factory=dict)  # channel -> what happened


class RetryLater(Exception):
    """A channel hit a transient error (or another worker holds the night): try again later.

    `delay`: the least the caller must wait (a provider's Retry-After, a lease, a circuit), or
    None for the task's own exponential backoff. `backoff`: wait at least that backoff too (one
    channel gave a delay, another none).
    """

    def __init__(self, delay: float | None, reason: str, backoff: bool = False) -> None:
        super().__init__(reason)
        self.delay = delay
        self.reason = reason
        self.backoff = backoff
        self.outcome: Outcome | None = None  # what each channel did on this attempt


def merge(first: RetryLater | None, second: RetryLater) -> RetryLater:
    """One retry for both channels of an evening: it comes no earlier than either asked.

    The larger delay wins (SMS told to wait 7 s by a 429 and email refused with a 451 retry
    after 7 s, not after the email's shorter backoff); a channel without a delay of its own
    adds the backoff as a floor.
    """
    if first is None:
        return second
    delays = [d for d in (first.delay, second.delay) if d is not None]
    backoff = first.backoff or second.backoff or len(delays) == 1
    return RetryLater(max(delays) if delays else None, f"{first.reason}; {second.reason}",
                      backoff=backoff)
