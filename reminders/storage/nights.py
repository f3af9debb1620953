"""Per-night send records: the reason each person gets at most one reminder per local evening.

One hash per (subscriber, local date), one set of fields per channel:
  <ch>          state: sending | retry | sent | failed | missed | skipped
  <ch>_lease    epoch until which the current sender owns the attempt
  <ch>_since    when the current attempt started (to look the message up after a crash); after a
                lost answer, "first:last" attempts that may have reached the provider
                (lost_answers.py)
  <ch>_attempts how many attempts were claimed
  <ch>_id       provider message id (Twilio SID, Message-ID)
  <ch>_status   provider delivery status (queued, sent, delivered, undelivered, failed)
  <ch>_error    provider error code
  <ch>_reason   why it was skipped or missed
  <ch>_not_before  the provider's Retry-After, as an epoch: no attempt is claimed before it
  <ch>_uncertain  start of an attempt that timed out (the provider may have the message), or
                "first:last" such attempts
  email_data_at, email_date  an email attempt reached DATA, with that Date (message_ids.py)
  done, score   what the person answered; eng, eng_done  counted for engagement (engagement.py)
The claim is a Lua script, so two workers running the same task can never both send.

A record can be lost (Redis with `appendfsync everysec` crashing with its machine): a claim that
finds no record, from a Redis that started within the evening's attempt window, answers
`restarted`, and the sender asks the provider once before sending (nightly.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any, cast

import redis

from reminders.domain import channels as registry
from reminders.domain.subscriber import Subscriber
from reminders.storage import codec, inflight, keys, replicas
from reminders.storage.lua import script as lua_script
from reminders.storage.message_index import value as message_index_value


class ClaimOutcome(StrEnum):
    CLAIMED = "claimed"
    RECLAIMED = "reclaimed"  # a dead or timed-out attempt: the provider may have its message
    # no record, from a Redis that (re)started during the evening: one may have been lost
    RESTARTED = "restarted"
    BUSY = "busy"  # another sender owns the attempt
    WAIT = "wait"  # the provider's Retry-After has not passed
    DONE = "done"  # the channel already has a final state


@dataclass(frozen=True)
class Claim:
    outcome: ClaimOutcome
    # reclaimed: when the dead attempt started; busy: lease end; wait: the provider's
    # Retry-After (epoch); done: the state
    detail: str

    @property
    def owned(self) -> bool:
        return self.outcome in (ClaimOutcome.CLAIMED, ClaimOutcome.RECLAIMED,
                                ClaimOutcome.RESTARTED)


def claim(
    client: redis.Redis, subscriber_id: str, local_date: date, channel: str, now: datetime,
    lease_seconds: float, window: tuple[datetime, datetime] | None = None,
) -> Claim:
    """Own this channel's send for the night (see the module docstring for each outcome).

    `window` (attempt_window): a fresh claim from a Redis that started within it is
    `reclaimed` from the window's start, as a record of an attempt may have been lost.
    """
    start, end = ("", "") if window is None else (window[0].timestamp(), window[1].timestamp())
    raw, replicated = replicas.write(client, "night-claim", lambda target: lua_script(
        client, "night_claim")(
        keys=[keys.night(subscriber_id, local_date), keys.night_stats(local_date)],
        args=[channel, now.timestamp(), now.timestamp() + lease_seconds, keys.NIGHT_TTL_SECONDS,
              start, end], client=target))
    outcome, detail = (codec.text(x) for x in raw)
    found = Claim(ClaimOutcome(outcome), detail)
    if found.owned and not replicated:
        # A failover could lose it: undone, the task retries. A takeover keeps what the earlier
        # attempt left to look up; a fresh claim leaves no state (replicas.py).
        if found.outcome == ClaimOutcome.RECLAIMED:
            release_for_retry(client, subscriber_id, local_date, channel, "not-replicated",
                              detail)
        else:
            client.hdel(keys.night(subscriber_id, local_date), channel, f"{channel}_lease")
        raise replicas.NotReplicated("night claim: no replica acknowledged it in time")
    return found


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
        message_index_value(subscriber_id, local_date, channel) if message_index else "",
        keys.NIGHT_TTL_SECONDS,
        inflight.member(subscriber_id, local_date) if settle else "",
    ]
    for name, value in fields.items():
        args += [f"{channel}_{name}", value]
    def run(target: redis.Redis | redis.client.Pipeline) -> Any:
        return lua_script(client, "night_finish")(
            keys=[keys.night(subscriber_id, local_date), keys.night_stats(local_date),
                  keys.METRICS, keys.message_index(message_index or "-"),
                  *inflight.key_names()],
            args=args, client=target)

    if state != "sent":
        return bool(run(client))
    # The text is out: an unconfirmed record is only logged. Lost in a failover, it leaves the
    # replicated claim, whose next owner finds the message at the provider (lost_answers.py).
    done, _ = replicas.write(client, "send-record", run)
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
    fields = {channel: "retry", f"{channel}_error": error}
    if uncertain_since is not None:
        fields[f"{channel}_uncertain"] = str(uncertain_since)
    if not_before is not None:
        fields[f"{channel}_not_before"] = repr(not_before)
    _write(client, keys.night(subscriber_id, local_date), fields, f"{channel}_lease")


def note(client: redis.Redis, subscriber_id: str, local_date: date, **fields: str) -> None:
    """What the person told us about that evening (DONE, a score), as long as the send record
    lasts; a DONE or score for a delivered evening counts it engaged (lua/night_note.lua)."""
    lua_script(client, "night_note")(
        keys=[keys.night(subscriber_id, local_date), keys.night_stats(local_date)],
        args=[keys.NIGHT_TTL_SECONDS, keys.STATS_TTL_SECONDS,
              *(item for pair in fields.items() for item in pair)])


def _write(client: redis.Redis, key: str, fields: dict[str, str], drop: str) -> None:
    """Set `fields` and delete `drop` in one transaction that renews the record's expiry."""
    with client.pipeline() as pipe:
        pipe.hset(key, mapping=cast(Any, fields))
        pipe.hdel(key, drop)
        pipe.expire(key, keys.NIGHT_TTL_SECONDS)
        pipe.execute()


# A night record exists only near the day it was written (a send, a callback, DONE after
# midnight) and expires NIGHT_TTL_SECONDS after its last write: these dates cover them all.
_ERASE_BEFORE = timedelta(seconds=keys.NIGHT_TTL_SECONDS) + timedelta(days=2)
_ERASE_AFTER = timedelta(days=2)


@dataclass(frozen=True)
class PersonNights:
    """One person's night records, the provider-id records naming them, in-flight entries."""

    records: list[str]
    message_sids: list[str]
    evenings: list[tuple[str, date]]

    def erase(self, pipe: redis.client.Pipeline) -> None:
        """Queue their deletion in `pipe` (a transaction the caller executes)."""
        pipe.delete(*self.records, *(keys.message_index(sid) for sid in self.message_sids))
        inflight.remove_in(pipe, self.evenings)


def of_subscriber(client: redis.Redis, subscriber_id: str, today: date) -> PersonNights:
    first, last = today - _ERASE_BEFORE, today + _ERASE_AFTER
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    records = [keys.night(subscriber_id, day) for day in days]
    with client.pipeline(transaction=False) as pipe:
        for key in records:
            pipe.hmget(key, "sms_id", "email_id", "weekly_id")
        ids = pipe.execute()
    sids = sorted({codec.text(v) for pair in ids for v in pair if v})
    return PersonNights(records, sids, [(subscriber_id, day) for day in days])


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
    with client.pipeline(transaction=False) as pipe:
        inflight.settle_in(pipe, subscriber_id, local_date)
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
    try:
        channels = registry.ordered(registry.parse_set(ch))
    except ValueError:
        channels = ["sms"]
    for channel in channels:
        busy = raw.get(channel) == "sending" and float(raw.get(f"{channel}_lease") or 0) > (
            now.timestamp())
        if not busy:
            finish(client, subscriber_id, local_date, channel, "missed", reason=reason)


def read(client: redis.Redis, subscriber_id: str, local_date: date) -> dict[str, str]:
    raw = client.hgetall(keys.night(subscriber_id, local_date))
    return codec.text_hash(raw)


def read_many(client: redis.Redis, subscriber_id: str, dates: list[date]
              ) -> list[dict[str, str]]:
    """One person's records of these dates ({} where none), in one round trip."""
    with client.pipeline(transaction=False) as pipe:
        for local_date in dates:
            pipe.hgetall(keys.night(subscriber_id, local_date))
        return [codec.text_hash(raw) for raw in pipe.execute()]


def _channels(sub: Subscriber) -> list[str]:
    found = [name for name in registry.ordered(sub.channels) if sub.deliverable(name)]
    return found or registry.ordered(sub.channels)[:1]


def advance_status(client: redis.Redis, subscriber_id: str, day: date, status: str,
                   error_code: str, ranks: dict[str, int], channel: str = "sms") -> bool:
    """Apply a delivery status to `channel`'s fields if it moves forward; whether it did. The
    first `delivered` counts the evening by program week (lua/night_status.lua)."""
    midnight = datetime.combine(day, datetime.min.time(), tzinfo=UTC).timestamp()
    return bool(lua_script(client, "night_status")(
        keys=[keys.night(subscriber_id, day), keys.night_stats(day), keys.METRICS,
              keys.subscriber(subscriber_id)],
        args=[status, error_code, json.dumps(ranks), keys.STATS_TTL_SECONDS, channel,
              "1" if channel in registry.names() else "", int(midnight)]))


def last_final_in(pipe: redis.client.Pipeline, subscriber_id: str, days: list[date]) -> None:
    """Queue (in a caller's pipeline) the newest of `days` (newest first) with a final state;
    the reply is {position, record} (lua/night_last.lua)."""
    names = [keys.night(subscriber_id, day) for day in days]
    lua_script(pipe, "night_last")(keys=names, client=pipe)


def email_attempt(client: redis.Redis, subscriber_id: str, local_date: date,
                  channel: str = "email") -> tuple[str, str]:
    """(when an earlier email attempt reached DATA, its Date header); "" for none."""
    values = client.hmget(keys.night(subscriber_id, local_date), f"{channel}_data_at",
                          f"{channel}_date")
    return tuple(codec.text(v) for v in values)  # type: ignore[return-value]


def record_email_attempt(client: redis.Redis, subscriber_id: str, local_date: date,
                         message_id: str, date_header: str, at: float,
                         channel: str = "email") -> None:
    """An email attempt is about to send DATA (the record a retry after a crash reads)."""
    client.hset(keys.night(subscriber_id, local_date),
                mapping={f"{channel}_id": message_id, f"{channel}_date": date_header,
                         f"{channel}_data_at": f"{at:.3f}"})


def notes(client: redis.Redis, subscriber_id: str, days: list[date]
          ) -> list[tuple[bool, int | None]]:
    """What the person told us on each of `days` (one round trip): (DONE, score or None)."""
    return [(record.get("done") == "1",
             int(record["score"]) if record.get("score", "").isdigit() else None)
            for record in read_many(client, subscriber_id, days)]
