"""Every worker stops texting while Twilio refuses our account or its credentials.

A rejected credential (HTTP 401, Twilio 20003: a rotated or mistyped token) or an inactive
account (20005, 10001) says nothing about the person being texted, and sending on would only
fail everyone's evening in turn (it used to be recorded as a permanent failure of each person).
The first such answer opens the circuit, in Redis so that every worker stops: for OPEN_SECONDS
no SMS request is made and the evenings wait, still bounded by their late limit; then the next
send tries again and, if Twilio accepts it, sending resumes. One ERROR line each time the circuit
opens; `/metrics` counts the refusals and shows the state, and `/healthz` answers 503 with the
reason until Twilio accepts us again. A worker checks the credentials when it starts (one GET of
our account, wiring.py), so restarting the workers with a fixed token resumes sending at once.

Each process reads the shared state at most once per REFRESH_SECONDS (the send path asks before
every text), and at once after its own refusal.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import redis

from reminders.storage import counters, keys

log = logging.getLogger(__name__)

OPEN_SECONDS = 60.0
REFRESH_SECONDS = 1.0
# How long /healthz keeps reporting a refusal when nothing is sent to prove otherwise.
FAILING_TTL_SECONDS = 24 * 3600


@dataclass(frozen=True)
class Stop:
    seconds: float  # until the circuit closes
    reason: str  # e.g. "auth failed: 20003"


def reason_of(code: str) -> str:
    what = "auth failed" if code in ("20003", "401") else "account refused"
    return f"{what}: {code}"


def failing(client: redis.Redis) -> str | None:
    """Why Twilio refused us, from its first refusal until it accepts us again; else None."""
    raw = client.get(keys.SMS_AUTH_FAILING)
    if raw is None:
        return None
    return raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw)


class Circuit:
    def __init__(self, client: redis.Redis, open_seconds: float = OPEN_SECONDS) -> None:
        self.redis = client
        self.open_seconds = open_seconds
        self._read_at = -REFRESH_SECONDS
        self._open_until = 0.0
        self._reason = ""
        self._failing = False

    def paused(self) -> Stop | None:
        """While sending is stopped: how long for, and why."""
        now = time.monotonic()
        if now - self._read_at >= REFRESH_SECONDS:
            with self.redis.pipeline(transaction=False) as pipe:
                pipe.pttl(keys.SMS_CIRCUIT)
                pipe.get(keys.SMS_CIRCUIT)
                pipe.exists(keys.SMS_AUTH_FAILING)
                ttl_ms, reason, failing_now = pipe.execute()
            self._open_until = now + ttl_ms / 1000 if ttl_ms and ttl_ms > 0 else 0.0
            self._reason = reason.decode(errors="replace") if isinstance(reason, bytes) else ""
            self._failing = bool(failing_now)
            self._read_at = now
        left = self._open_until - now
        return Stop(left, self._reason) if left > 0 else None

    def trip(self, code: str, message: str) -> None:
        """Twilio refused the account or its credentials (`code`, the provider's `message`):
        stop every worker for a while."""
        reason = reason_of(code)
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(keys.SMS_CIRCUIT, reason, nx=True, px=int(self.open_seconds * 1000))
            pipe.set(keys.SMS_AUTH_FAILING, reason, ex=FAILING_TTL_SECONDS)
            counters.incr(pipe, counters.PROVIDER_AUTH_FAILURES)
            opened = pipe.execute()[0]
        now = time.monotonic()
        self._open_until = max(self._open_until, now + self.open_seconds)
        self._reason, self._failing, self._read_at = reason, True, now
        if opened:
            log.error("sms stopped for every worker for %.0fs: Twilio refused our account "
                      "(%s, %s); evenings stay due until their late limit; check "
                      "TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN and restart the workers",
                      self.open_seconds, reason, message)

    def ok(self) -> None:
        """Twilio accepted a request: a refusal seen before is over."""
        if self._failing:
            self.reset()
            log.warning("sms resumed: Twilio accepts our credentials again")

    def reset(self) -> None:
        self.redis.delete(keys.SMS_CIRCUIT, keys.SMS_AUTH_FAILING)
        self._open_until, self._failing, self._read_at = 0.0, False, time.monotonic()
