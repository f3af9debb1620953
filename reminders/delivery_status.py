"""Delivery status from the provider's callbacks: forward only, terminal states stay put.

Callbacks arrive out of order and more than once; a late `sent` must never overwrite
`delivered`. The comparison runs inside Redis (Lua) so two callbacks racing cannot interleave.
"""

from __future__ import annotations

import json
import logging
from datetime import date

import redis

from reminders import keys

log = logging.getLogger(__name__)

# Higher rank wins; rank 9 states are terminal (nothing replaces them).
RANKS = {"accepted": 1, "scheduled": 1, "queued": 2, "sending": 3, "sent": 4, "receiving": 4,
         "received": 5, "read": 6, "delivered": 9, "undelivered": 9, "failed": 9,
         "canceled": 9}
TERMINAL_FAILURES = ("undelivered", "failed")

_ADVANCE = """
-- a record that has expired is not recreated (it would have no expiry of its own)
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local current = redis.call('HGET', KEYS[1], 'sms_status')
local ranks = cjson.decode(ARGV[3])
local old = ranks[current or ''] or 0
local new = ranks[ARGV[1]] or 0
if new == 0 or old >= 9 or new <= old then return 0 end
redis.call('HSET', KEYS[1], 'sms_status', ARGV[1])
if ARGV[2] ~= '' then redis.call('HSET', KEYS[1], 'sms_error', ARGV[2]) end
if new >= 9 then
  redis.call('HINCRBY', KEYS[2], 'sms_' .. ARGV[1], 1)
  redis.call('EXPIRE', KEYS[2], ARGV[4])
  redis.call('HINCRBY', KEYS[3], ARGV[1] .. ':sms', 1)
  if ARGV[2] ~= '' then redis.call('HINCRBY', KEYS[3], 'error:sms:' .. ARGV[2], 1) end
end
return 1
"""


class UnknownMessage(LookupError):
    """A callback for a message we did not send (or whose record has expired)."""


def night_for_message(client: redis.Redis, sid: str) -> tuple[str, date]:
    raw = client.get(keys.message_index(sid))
    if raw is None:
        raise UnknownMessage(sid)
    text = raw.decode() if isinstance(raw, bytes) else str(raw)
    subscriber_id, _, day = text.partition(":")
    return subscriber_id, date.fromisoformat(day)


def advance(client: redis.Redis, sid: str, status: str, error_code: str = "") -> tuple[bool, str]:
    """Record `status` for message `sid` if it moves forward; (changed, subscriber id)."""
    subscriber_id, day = night_for_message(client, sid)
    changed = client.register_script(_ADVANCE)(
        keys=[keys.night(subscriber_id, day), keys.night_stats(day), keys.METRICS],
        args=[status.lower(), error_code, json.dumps(RANKS), keys.STATS_TTL_SECONDS],
    )
    log.info("status subscriber=%s sid=%s status=%s error=%s applied=%s", subscriber_id, sid,
             status, error_code or "-", bool(changed))
    return bool(changed), subscriber_id
