"""Every Redis key name the service uses, in one place.

All keys share the `fc:` prefix so the service can share a Redis database with others and an
operator can find (or back up) exactly what is ours.
"""

from __future__ import annotations

from datetime import date

PREFIX = "fc:"

# Due index: sorted set, member = subscriber id, score = next send instant (UTC epoch seconds).
DUE = PREFIX + "due"
# Claimed-but-not-yet-rescheduled subscribers: member = id, score = lease expiry (epoch).
CLAIMS = PREFIX + "claims"
# Original due instant of each claimed subscriber, so an expired claim goes back unchanged.
CLAIM_ORIGIN = PREFIX + "claims:origin"
# Evenings handed to a sender but not finished yet: member "<id>:<date>", score = last hand-off.
# The dispatcher hands stale ones out again, so a task lost with a broker or worker is retried.
INFLIGHT = PREFIX + "inflight"
# Append-only consent and audit log (a stream); entries name the subscriber id.
CONSENT_LOG = PREFIX + "consent"
# Numbers and addresses that asked us to stop; kept after `forget` so we keep honouring it.
SUPPRESSED_PHONES = PREFIX + "suppressed:phone"
SUPPRESSED_EMAILS = PREFIX + "suppressed:email"
# Cumulative counters for /metrics (never expire): "<what>:<channel>[:<detail>]" -> count.
METRICS = PREFIX + "metrics"
# Per-night counters for `stats`: hash, field = outcome, value = count.
STATS_PREFIX = PREFIX + "stats:"

# Send records live this long: long enough for rotation history and monthly stats.
NIGHT_TTL_SECONDS = 45 * 24 * 3600
STATS_TTL_SECONDS = 400 * 24 * 3600


def subscriber(subscriber_id: str) -> str:
    return f"{PREFIX}sub:{subscriber_id}"


def subscriber_pattern() -> str:
    return f"{PREFIX}sub:*"


def phone_index(e164: str) -> str:
    return f"{PREFIX}phone:{e164}"


def email_index(address: str) -> str:
    return f"{PREFIX}email:{address.lower()}"


def night(subscriber_id: str, local_date: date) -> str:
    """One subscriber's send record for one local evening (all channels)."""
    return f"{PREFIX}night:{subscriber_id}:{local_date.isoformat()}"


def night_stats(local_date: date) -> str:
    return f"{STATS_PREFIX}{local_date.isoformat()}"


def message_index(provider_id: str) -> str:
    """Provider message id (Twilio SID) -> the night record it belongs to."""
    return f"{PREFIX}msg:{provider_id}"


def inbound_counter(e164: str) -> str:
    """Replies sent to one number this hour (the inbound rate limit)."""
    return f"{PREFIX}inbound:{e164}"

# The shared SMS pacing state: the instant (Redis clock) from which the next send may start.
SMS_RATE = PREFIX + "rate:sms"


def inflight_member(subscriber_id: str, local_date: date) -> str:
    return f"{subscriber_id}:{local_date.isoformat()}"
