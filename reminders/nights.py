"""Per-night send records: the reason each person gets at most one reminder per local evening.

One hash per (subscriber, local date), one set of fields per channel:
  <ch>          state: sending | retry | sent | failed | missed | skipped
  <ch>_lease    epoch until which the current sender owns the attempt
  <ch>_since    when the current attempt started (to look the message up after a crash); after a
                lost answer, "first:last" attempts that may have reached the provider (recovery.py)
  <ch>_attempts how many attempts were claimed
  <ch>_id       provider message id (Twilio SID, Message-ID)
  <ch>_status   provider delivery status (queued, sent, delivered, undelivered, failed)
  <ch>_error    provider error code
  <ch>_reason   why it was skipped or missed
  <ch>_not_before  the provider's Retry-After, as an epoch: no attempt is claimed before it
  <ch>_uncertain  start of an attempt that timed out (the provider may have the message), or
                "first:last" such attempts
  email_data_at, email_date  an email attempt reached DATA, with that Date (nightly_email.py)
The claim is a Lua script, so two workers running the same task can never both send.

A record can also be lost: Redis with `appendfsync everysec` that crashes with its machine comes
back without the last second of writes (a claim, a "sent" record). So a claim given the window
in which this evening's attempts are made (its instant to its late limit) that finds no record,
from a Redis that started within that window, does not take the evening as new: it answers
`reclaimed`, and the sender asks the provider before sending (delivery.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

import redis

from reminders import keys
from reminders.schedule import send_instant
from reminders.subscribers import Subscriber

FINAL_STATES = ("sent", "failed", "missed", "skipped")
# How far the clocks of workers and Redis may disagree (see attempt_window).
CLOCK_MARGIN = timedelta(seconds=5)

_CLAIM = """
local ch = ARGV[1]
local now = tonumber(ARGV[2])
local state = redis.call('HGET', KEYS[1], ch)
local since = ''
if state == 'sending' then
  local lease = tonumber(redis.call('HGET', KEYS[1], ch .. '_lease') or '0')
  if lease > now then return {'busy', tostring(lease)} end
  since = redis.call('HGET', KEYS[1], ch .. '_since') or ''
elseif state == 'retry' or state == 'skipped' then
  -- the provider said when to come back: whoever runs the evening early (a capped retry, a
  -- re-handed evening, a duplicate task) waits for it, without asking the provider
  local not_before = tonumber(redis.call('HGET', KEYS[1], ch .. '_not_before') or '0')
  if state == 'retry' and not_before > now then return {'wait', tostring(not_before)} end
  -- a skip (opted out, paused, unconfirmed) is re-checked: START before the late limit sends
  -- after a timeout the provider may have the message: the next sender must look first
  since = redis.call('HGET', KEYS[1], ch .. '_uncertain') or ''
  redis.call('HDEL', KEYS[1], ch .. '_uncertain')
  if state == 'skipped' then
    -- the night's stats count its final state once: take the skip back (metrics, which
    -- count events, keep it)
    local reason = redis.call('HGET', KEYS[1], ch .. '_reason')
    if tonumber(redis.call('HGET', KEYS[2], ch .. '_skipped') or '0') > 0 then
      redis.call('HINCRBY', KEYS[2], ch .. '_skipped', -1)
    end
    if reason and tonumber(redis.call('HGET', KEYS[2], ch .. '_skipped:' .. reason) or '0') > 0 then
      redis.call('HINCRBY', KEYS[2], ch .. '_skipped:' .. reason, -1)
    end
    redis.call('HDEL', KEYS[1], ch .. '_reason')
  end
elseif state then
  return {'done', state}
elseif ARGV[5] ~= '' then
  -- No record at all: did Redis (re)start while this evening's attempts were being made, so
  -- that one may have been lost with its last writes? (INFO may be refused by a managed
  -- Redis's ACL: then there is nothing to compare.)
  local info = redis.pcall('INFO', 'server')
  local uptime = type(info) == 'string' and tonumber(string.match(info, 'uptime_in_seconds:(%d+)'))
  if uptime then
    local t = redis.call('TIME')
    local started = tonumber(t[1]) - uptime - 1  -- uptime is whole seconds: err early
    if started > tonumber(ARGV[5]) and started <= tonumber(ARGV[6]) then since = ARGV[5] end
  end
end
redis.call('HSET', KEYS[1], ch, 'sending', ch .. '_lease', ARGV[3], ch .. '_since', ARGV[2])
redis.call('HINCRBY', KEYS[1], ch .. '_attempts', 1)
redis.call('EXPIRE', KEYS[1], ARGV[4])
if since ~= '' then return {'reclaimed', since} end
return {'claimed', ''}
"""

# Set a final state only once; count it in the night's stats the first time. In the same
# call (one round trip): remember which night a provider message id belongs to (KEYS[4],
# ARGV[7] = value, ARGV[8] = ttl; status callbacks name only the SID) and settle the evening
# in the in-flight set (KEYS[5], member ARGV[9]; its resend count in KEYS[6]), each only when
# given.
_FINISH = """
local ch = ARGV[1]
if ARGV[7] ~= '' then redis.call('SET', KEYS[4], ARGV[7], 'EX', ARGV[8]) end
if ARGV[9] ~= '' then
  redis.call('ZREM', KEYS[5], ARGV[9])
  redis.call('HDEL', KEYS[6], ARGV[9])
end
local state = redis.call('HGET', KEYS[1], ch)
if state and state ~= 'sending' and state ~= 'retry' then return 0 end
redis.call('HSET', KEYS[1], ch, ARGV[2])
for i = 10, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('HDEL', KEYS[1], ch .. '_lease')
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('HINCRBY', KEYS[2], ch .. '_' .. ARGV[2], 1)
if ARGV[5] ~= '' then redis.call('HINCRBY', KEYS[2], ch .. '_' .. ARGV[2] .. ':' .. ARGV[5], 1) end
redis.call('EXPIRE', KEYS[2], ARGV[4])
redis.call('HINCRBY', KEYS[3], ARGV[2] .. ':' .. ch, 1)
if ARGV[6] ~= '' then redis.call('HINCRBY', KEYS[3], 'error:' .. ch .. ':' .. ARGV[6], 1) end
return 1
"""


@dataclass(frozen=True)
class Claim:
    outcome: str  # claimed | reclaimed | busy | wait | done
    # reclaimed: when the dead attempt started; busy: lease end; wait: the provider's
    # Retry-After (epoch); done: the state
    detail: str

    @property
    def owned(self) -> bool:
        return self.outcome in ("claimed", "reclaimed")


def _script(client: redis.Redis | redis.client.Pipeline, source: str
            ) -> redis.commands.core.Script:
    # register_script only hashes the source; EVALSHA falls back to EVAL when it is not cached.
    return client.register_script(source)


def attempt_window(sub: Subscriber, local_date: date, late_limit: timedelta
                   ) -> tuple[datetime, datetime]:
    """When this evening's nightly attempts are made: from its instant (less a margin for
    clocks, workers' and Redis's, that disagree) to its late limit."""
    due = send_instant(local_date, sub.send_time, ZoneInfo(sub.timezone))
    return due - CLOCK_MARGIN, due + late_limit + CLOCK_MARGIN


def claim(
    client: redis.Redis, subscriber_id: str, local_date: date, channel: str, now: datetime,
    lease_seconds: float, window: tuple[datetime, datetime] | None = None,
) -> Claim:
    """Own this channel's send for the night (see the module docstring for each outcome).

    `window` (attempt_window): a fresh claim from a Redis that started within it is
    `reclaimed` from the window's start, as a record of an attempt may have been lost.
    """
    start, end = ("", "") if window is None else (window[0].timestamp(), window[1].timestamp())
    raw = _script(client, _CLAIM)(
        keys=[keys.night(subscriber_id, local_date), keys.night_stats(local_date)],
        args=[channel, now.timestamp(), now.timestamp() + lease_seconds, keys.NIGHT_TTL_SECONDS,
              start, end],
    )
    outcome, detail = (x.decode() if isinstance(x, bytes) else str(x) for x in raw)
    return Claim(outcome, detail)


def finish(
    client: redis.Redis, subscriber_id: str, local_date: date, channel: str, state: str,
    message_index: str | None = None, settle: bool = False, **fields: str,
) -> bool:
    """Record the final state of a channel's send for that night; False if already final.

    `message_index`: a provider message id to map back to this night (for status callbacks).
    `settle`: this was the evening's last channel: take it out of the in-flight set too.
    """
    # Per-night counters (fc:stats:<date>): <ch>_<state> and, for skips/misses, the reason.
    args: list[str | int] = [
        channel, state, keys.NIGHT_TTL_SECONDS, keys.STATS_TTL_SECONDS,
        fields.get("reason", ""), fields.get("error", ""),
        f"{subscriber_id}:{local_date.isoformat()}" if message_index else "",
        keys.NIGHT_TTL_SECONDS,
        keys.inflight_member(subscriber_id, local_date) if settle else "",
    ]
    for name, value in fields.items():
        args += [f"{channel}_{name}", value]
    done = _script(client, _FINISH)(
        keys=[keys.night(subscriber_id, local_date), keys.night_stats(local_date), keys.METRICS,
              keys.message_index(message_index or "-"), keys.INFLIGHT, keys.INFLIGHT_RESENDS],
        args=args,
    )
    return bool(done)


def release_for_retry(
    client: redis.Redis, subscriber_id: str, local_date: date, channel: str, error: str,
    uncertain_since: float | str | None = None, not_before: float | None = None,
) -> None:
    """A transient failure: let the next attempt claim the night again.

    `uncertain_since` (a timeout, a dropped connection): the provider may have accepted the
    message anyway, so the next attempt checks with the provider before sending again.
    `not_before` (epoch; the provider's Retry-After): no attempt is claimed before then.
    """
    key = keys.night(subscriber_id, local_date)
    fields = {channel: "retry", f"{channel}_error": error}
    if uncertain_since is not None:
        fields[f"{channel}_uncertain"] = str(uncertain_since)
    if not_before is not None:
        fields[f"{channel}_not_before"] = repr(not_before)
    with client.pipeline() as pipe:
        pipe.hset(key, mapping=cast(Any, fields))
        pipe.hdel(key, f"{channel}_lease")
        pipe.expire(key, keys.NIGHT_TTL_SECONDS)
        pipe.execute()


def note(client: redis.Redis, subscriber_id: str, local_date: date, **fields: str) -> None:
    """What the person told us about that evening (DONE, a symptom score): kept as long as
    the send record, and no longer (every write to a night record sets its expiry)."""
    key = keys.night(subscriber_id, local_date)
    with client.pipeline() as pipe:
        pipe.hset(key, mapping=cast(Any, fields))
        pipe.expire(key, keys.NIGHT_TTL_SECONDS)
        pipe.execute()


# A night record exists only for dates near the day it was written (a send, a callback, DONE
# after midnight), and expires NIGHT_TTL_SECONDS after its last write: so these dates around
# today cover every record a person can have, without scanning the keyspace.
_ERASE_BEFORE = timedelta(seconds=keys.NIGHT_TTL_SECONDS) + timedelta(days=2)
_ERASE_AFTER = timedelta(days=2)


@dataclass(frozen=True)
class PersonNights:
    """One person's night records, the provider-id records naming them, in-flight entries."""

    records: list[str]
    messages: list[str]
    inflight: list[str]

    def erase(self, pipe: redis.client.Pipeline) -> None:
        """Queue their deletion in `pipe` (a transaction the caller executes)."""
        pipe.delete(*self.records, *self.messages)
        pipe.zrem(keys.INFLIGHT, *self.inflight)


def of_subscriber(client: redis.Redis, subscriber_id: str, today: date) -> PersonNights:
    first, last = today - _ERASE_BEFORE, today + _ERASE_AFTER
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    records = [keys.night(subscriber_id, day) for day in days]
    with client.pipeline(transaction=False) as pipe:
        for key in records:
            pipe.hmget(key, "sms_id", "email_id")
        ids = pipe.execute()
    sids = {v.decode() if isinstance(v, bytes) else v for pair in ids for v in pair if v}
    # The SID index and the replay memory of its status callbacks (replay.py) name the message.
    messages = sorted({keys.message_index(sid) for sid in sids}
                      | {keys.status_seen(sid) for sid in sids})
    return PersonNights(records, messages,
                        [keys.inflight_member(subscriber_id, day) for day in days])


def note_attempts(client: redis.Redis, subscriber_id: str, local_date: date, channel: str,
                  attempts: str) -> None:
    """The claimed attempt goes on after earlier ones that may have reached the provider: a
    sender that reclaims the night after this one dies looks for all of them."""
    client.hset(keys.night(subscriber_id, local_date), f"{channel}_since", attempts)


def record_missed(client: redis.Redis, sub: Subscriber, local_date: date, reason: str) -> None:
    for channel in _channels(sub):
        finish(client, sub.id, local_date, channel, "missed", reason=reason)


def settle(client: redis.Redis, subscriber_id: str, local_date: date) -> None:
    """Nothing left to do for this evening: the dispatcher need not hand it out again."""
    member = keys.inflight_member(subscriber_id, local_date)
    with client.pipeline(transaction=False) as pipe:
        pipe.zrem(keys.INFLIGHT, member)
        pipe.hdel(keys.INFLIGHT_RESENDS, member)
        pipe.execute()


def give_up(client: redis.Redis, subscriber_id: str, local_date: date, now: datetime,
            reason: str) -> None:
    """The evening was handed out again and again and never finished: record it as missed.

    Works on a record that no longer decodes (its `ch` field, else sms); leaves alone a channel
    that a sender is still working on (its lease has not run out).
    """
    wanted = client.hget(keys.subscriber(subscriber_id), "ch")
    if wanted is None:
        return  # forgotten (or no channel at all): nothing to record, no night to recreate
    raw = read(client, subscriber_id, local_date)
    ch = wanted.decode(errors="replace") if isinstance(wanted, bytes) else str(wanted)
    channels = [c for c in ("sms", "email") if ch in (c, "both")] or ["sms"]
    for channel in channels:
        busy = raw.get(channel) == "sending" and float(raw.get(f"{channel}_lease") or 0) > (
            now.timestamp())
        if not busy:
            finish(client, subscriber_id, local_date, channel, "missed", reason=reason)


def read(client: redis.Redis, subscriber_id: str, local_date: date) -> dict[str, str]:
    raw = client.hgetall(keys.night(subscriber_id, local_date))
    return {
        (k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
        for k, v in raw.items()
    }


def _channels(sub: Subscriber) -> list[str]:
    found = []
    if sub.sms_deliverable:
        found.append("sms")
    if sub.email_deliverable:
        found.append("email")
    return found or ["sms" if sub.wants_sms else "email"]
