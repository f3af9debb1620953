"""Replayed webhooks: a text or a status callback we already handled is not applied again.

Twilio retries a webhook it got no answer to, and anyone who captured a signed request can send
it again (a START replayed after a STOP would re-subscribe someone). So:

- Inbound texts: per number, a hash MessageSid -> the reply we gave. A repeat is answered with
  that same reply and changes nothing. While the first is still being handled the SID is
  marked in progress; a repeat then gets an empty reply (the first one answers). A marker
  older than IN_PROGRESS_SECONDS (a process that died mid-request) no longer counts, so
  Twilio's retry is handled and the text is not lost. The hash expires INBOUND_TTL_SECONDS
  after the number's last text and holds at most INBOUND_MAX_PER_NUMBER SIDs (past that it
  starts again: only a flood would reach it, and the hourly reply limit already holds one).
- Consent changes (STOP, START, YES, a caregiver's answer...): their SIDs are also kept per
  number in a sorted set scored by arrival, CONSENT_TTL_SECONDS after the number's last consent
  change, at most CONSENT_MAX_PER_NUMBER (the oldest go first). A repeat of one is a no-op
  whatever the 3-day memory says. Twilio's signed parameters carry no time, so "older" is
  known only by arrival here: a SID we remember arrived before the number's last consent
  change and changes nothing; a SID we never saw is taken as the newest. A plain replay of a
  captured START therefore works only after more than CONSENT_MAX_PER_NUMBER newer consent
  changes from that number, or more than CONSENT_TTL_SECONDS of silence on consent.
- Status callbacks: per message, one bit per status (MessageSid, MessageStatus) already
  applied, kept STATUS_TTL_SECONDS: a repeat changes nothing. (Statuses only ever move forward
  in delivery_status.py, so a late repeat would change nothing either; the bitmap is one key
  of a few bytes per text, hence the shorter expiry.)

A crash after the change but before the reply is stored leaves the SID in progress: the retry
is handled again, which the handlers tolerate (a second STOP or DONE the same evening is a
no-op).
"""

from __future__ import annotations

from dataclasses import dataclass

import redis

from reminders.domain.states import DELIVERY_RANKS as RANKS
from reminders.storage import codec, keys
from reminders.storage.lua import script

INBOUND_TTL_SECONDS = 3 * 24 * 3600
STATUS_TTL_SECONDS = 24 * 3600
CONSENT_TTL_SECONDS = 400 * 24 * 3600
CONSENT_MAX_PER_NUMBER = 100
IN_PROGRESS_SECONDS = 120
INBOUND_MAX_PER_NUMBER = 200
# Bit positions in the status bitmap; the order is part of the stored format: append only.
_STATUS_BITS = {name: position for position, name in enumerate(RANKS)}

@dataclass(frozen=True)
class Seen:
    """What we know of an inbound SID: new (handle it), in progress, or done (and the reply)."""

    state: str  # "new" | "in progress" | "done"
    reply: str | None = None


def claim_text(client: redis.Redis, phone: str, sid: str) -> Seen:
    raw = script(client, "replay_claim_text")(
        keys=[keys.inbound_seen(phone), keys.consent_seen(phone)],
        args=[sid, IN_PROGRESS_SECONDS, INBOUND_TTL_SECONDS, INBOUND_MAX_PER_NUMBER])
    if raw is None:
        return Seen("new")
    text = codec.text(raw)
    if text.startswith("r"):
        return Seen("done", text[1:] or None)
    return Seen("in progress")


def remember_reply(client: redis.Redis, phone: str, sid: str, reply: str | None) -> None:
    key = keys.inbound_seen(phone)
    with client.pipeline() as pipe:
        pipe.multi()
        pipe.hset(key, sid, "r" + (reply or ""))
        pipe.expire(key, INBOUND_TTL_SECONDS)
        pipe.execute()


def remember_consent(client: redis.Redis, phone: str, sid: str) -> None:
    """`sid` changed consent for `phone`: remember it long (bounded), ordered by arrival."""
    key = keys.consent_seen(phone)
    seconds, micros = client.time()
    with client.pipeline() as pipe:
        pipe.multi()
        pipe.zadd(key, {sid: seconds * 1_000_000 + micros}, nx=True)
        pipe.zremrangebyrank(key, 0, -CONSENT_MAX_PER_NUMBER - 1)
        pipe.expire(key, CONSENT_TTL_SECONDS)
        pipe.execute()


def release_text(client: redis.Redis, phone: str, sid: str) -> None:
    """The text could not be handled (an error): let Twilio's retry handle it."""
    client.hdel(keys.inbound_seen(phone), sid)


def claim_status(client: redis.Redis, sid: str, status: str) -> bool:
    """True the first time (sid, status) is seen; unknown statuses are always 'first'."""
    position = _STATUS_BITS.get(status.lower())
    if position is None:
        return True  # delivery_status ignores statuses it does not rank: nothing to repeat
    first = script(client, "replay_mark_status")(keys=[keys.status_seen(sid)],
                                                 args=[position, STATUS_TTL_SECONDS])
    return bool(first)


def release_status(client: redis.Redis, sid: str, status: str) -> None:
    position = _STATUS_BITS.get(status.lower())
    if position is not None:
        script(client, "replay_unmark_status")(keys=[keys.status_seen(sid)], args=[position])


def forget_in(pipe: redis.client.Pipeline, phone: str | None, message_sids: list[str]) -> None:
    """Queue the deletion of what is remembered against replays of this person's webhooks."""
    if phone:
        pipe.delete(keys.inbound_seen(phone))
        # The consent memory outlives `forget` on purpose, like the suppression list: it holds
        # SIDs only, and a replayed START must not re-enrol a forgotten number that said STOP.
    if message_sids:
        pipe.delete(*(keys.status_seen(sid) for sid in message_sids))
