"""Caregiver links and the texts sent to caregivers (keys.caregiver, keys.caregiver_of,
keys.caregiver_sent).

One hash per person with a caregiver: `phone`, `name`, `cg` (the caregiver's consent:
pending | yes | stopped), `pc` (the person's: "" | yes | off), `added` (epoch seconds, with
a fraction: which of a number's invitations is the oldest). A set per
caregiver number lists the people it cares for, so a text from that number finds its links.
Every change is one MULTI/EXEC with its consent-log event (consent_log.record): the link and
the log never disagree. Texts to a caregiver are claimed here before they are sent
(lua/care_claim.lua): at most once per key. As a night's claim (storage/nights.py), the claim
and the sent record wait for the replicas, and a claim that finds no record from a Redis that
started within the text's attempt window answers `restarted`: the sender looks it up first.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import redis

from reminders.storage import codec, consent_log, keys, message_index, replicas, sends
from reminders.storage.consent_log import ConsentEvent
from reminders.storage.lua import script as lua_script

PENDING, YES, STOPPED, OFF = "pending", "yes", "stopped", "off"


@dataclass(frozen=True)
class Link:
    subscriber_id: str
    phone: str
    name: str
    caregiver: str  # pending | yes | stopped
    person: str  # "" | yes | off
    added: float = 0.0  # when the invitation was made (epoch seconds)

    @property
    def active(self) -> bool:
        """Both agreed, and neither ended it: the only state in which a caregiver is texted."""
        return self.caregiver == YES and self.person == YES

    @property
    def status(self) -> str:
        if self.caregiver == STOPPED:
            return "stopped"
        if self.person == OFF:
            return "ended"
        if self.active:
            return "active"
        if self.caregiver == YES:
            return "waiting_for_person"
        return "waiting_for_both" if self.person != YES else "waiting_for_caregiver"


def _link(subscriber_id: str, raw: dict[Any, Any]) -> Link | None:
    if not raw:
        return None
    fields = codec.text_hash(raw)
    try:
        added = float(fields.get("added", "0"))
    except ValueError:
        added = 0.0
    return Link(subscriber_id, fields.get("phone", ""), fields.get("name", ""),
                fields.get("cg", PENDING), fields.get("pc", ""), added)


def read(client: redis.Redis, subscriber_id: str) -> Link | None:
    return _link(subscriber_id, client.hgetall(keys.caregiver(subscriber_id)))


def read_in(pipe: redis.client.Pipeline, subscriber_id: str) -> None:
    """Queue the read in a caller's pipeline (show/list); decode with `decoded`."""
    pipe.hgetall(keys.caregiver(subscriber_id))


def decoded(subscriber_id: str, raw: dict[Any, Any]) -> Link | None:
    return _link(subscriber_id, raw)


def cared_for_by(client: redis.Redis, e164: str) -> list[str]:
    """The people whose caregiver this number is (any state)."""
    members: Any = client.smembers(keys.caregiver_of(e164))
    return sorted(codec.text(m) for m in members)


def link(client: redis.Redis, subscriber_id: str, phone: str, name: str,
         event: ConsentEvent) -> None:
    """Set (or replace) the person's caregiver: both consents start over."""
    key = keys.caregiver(subscriber_id)
    with client.pipeline() as pipe:
        pipe.watch(key)
        old: Any = pipe.hget(key, "phone")
        pipe.multi()
        if old:
            pipe.srem(keys.caregiver_of(codec.text(old)), subscriber_id)
        pipe.delete(key)
        pipe.hset(key, mapping={"phone": phone, "name": name, "cg": PENDING, "pc": "",
                                "added": f"{time.time():.6f}"})
        pipe.sadd(keys.caregiver_of(phone), subscriber_id)
        consent_log.record(pipe, subscriber_id, event)
        pipe.execute()


def set_consent(client: redis.Redis, subscriber_id: str, side: str, value: str,
                event: ConsentEvent, phone: str) -> bool:
    """One side's consent (side: "cg" the caregiver, "pc" the person) for the link with
    caregiver `phone`; False when that link no longer exists (removed or replaced meanwhile)."""
    key = keys.caregiver(subscriber_id)
    with client.pipeline() as pipe:
        try:
            pipe.watch(key)
            if codec.text(pipe.hget(key, "phone")) != phone:
                return False
            pipe.multi()
            pipe.hset(key, side, value)
            consent_log.record(pipe, subscriber_id, event)
            pipe.execute()
        except redis.WatchError:
            return False
    return True


def unlink(client: redis.Redis, subscriber_id: str, event: ConsentEvent | None) -> Link | None:
    """Remove the person's caregiver (the texts already claimed stay recorded); the link before."""
    key = keys.caregiver(subscriber_id)
    with client.pipeline() as pipe:
        pipe.watch(key)
        before = _link(subscriber_id, pipe.hgetall(key))
        if before is None:
            return None
        pipe.multi()
        forget_in(pipe, subscriber_id, before.phone, sent=False)
        if event is not None:
            consent_log.record(pipe, subscriber_id, event)
        pipe.execute()
    return before


def forget_in(pipe: redis.client.Pipeline, subscriber_id: str, phone: str | None,
              sent: bool = True) -> None:
    """Queue the removal of the link (and, with `sent`, the record of texts sent)."""
    pipe.delete(keys.caregiver(subscriber_id))
    if phone:
        pipe.srem(keys.caregiver_of(phone), subscriber_id)
    if sent:
        pipe.delete(keys.caregiver_sent(subscriber_id))


def is_active(client: redis.Redis, subscriber_id: str) -> bool:
    found = read(client, subscriber_id)
    return found is not None and found.active


def caregiver_phone(client: redis.Redis, subscriber_id: str) -> str | None:
    value: Any = client.hget(keys.caregiver(subscriber_id), "phone")
    return codec.text(value) if value else None


# -- texts to a caregiver: at most once per key ------------------------------------------------
def claim_text(client: redis.Redis, subscriber_id: str, text_key: str, now: float,
               lease_seconds: float, window: tuple[float, float] | None = None
               ) -> tuple[str, str]:
    """(claimed | reclaimed | restarted | busy | wait | done, detail): see lua/care_claim.lua.

    `window` (epoch seconds): when this text's attempts are made; a fresh claim from a Redis
    that started within it is `restarted`, as a record of an attempt may have been lost. The
    claim waits for the replicas as a night's claim does (replicas.py): one a failover could
    lose is undone and NotReplicated raised (the task retries)."""
    start, end = ("", "") if window is None else window
    raw, replicated = replicas.write(client, "care-claim", lambda target: lua_script(
        client, "care_claim")(
        keys=[keys.caregiver_sent(subscriber_id)],
        args=[text_key, now, now + lease_seconds, keys.CARE_SENT_TTL_SECONDS, start, end],
        client=target))
    outcome, detail = (codec.text(x) for x in raw)
    if outcome in ("claimed", "reclaimed", "restarted") and not replicated:
        if outcome == "reclaimed":  # keep what the earlier attempt left to look up
            retry_text(client, subscriber_id, text_key, "not-replicated", detail)
        else:
            release_text(client, subscriber_id, text_key)
        raise replicas.NotReplicated("caregiver text claim: no replica acknowledged it in time")
    return outcome, detail


def finish_text(client: redis.Redis, subscriber_id: str, text_key: str, state: str,
                provider_id: str = "", event: ConsentEvent | None = None,
                index: bool = False, **fields: str) -> None:
    """The text's final state (and `fields`: status, error, as `<key>_<name>`), (`event`) its
    line in the consent log and (`index`) its provider id in the message-id index, in one
    step."""
    key = keys.caregiver_sent(subscriber_id)
    with client.pipeline() as pipe:
        if index and provider_id:
            message_index.set_in(pipe, provider_id, subscriber_id, text_key,
                                 keys.CARE_SENT_TTL_SECONDS)
        pipe.hset(key, mapping={text_key: state, f"{text_key}_id": provider_id,
                                **{f"{text_key}_{name}": v for name, v in fields.items()}})
        pipe.hdel(key, f"{text_key}_lease", f"{text_key}_since")
        pipe.expire(key, keys.CARE_SENT_TTL_SECONDS)
        if event is not None:
            consent_log.record(pipe, subscriber_id, event)
        pipe.execute()
    if state == "sent":
        # The text is out: an unconfirmed record is only logged. Lost in a failover, it leaves
        # the replicated claim, whose next owner finds the text at the provider.
        replicas.confirm(client, "care-send-record")


def advance_text_status(client: redis.Redis, subscriber_id: str, text_key: str, status: str,
                        error_code: str, ranks: dict[str, int]) -> bool:
    """Apply a delivery status to a caregiver text if it moves forward (lua/care_status.lua)."""
    changed = lua_script(client, "care_status")(
        keys=[keys.caregiver_sent(subscriber_id), keys.METRICS],
        args=[text_key, status, error_code, json.dumps(ranks)])
    return bool(changed)


def release_text(client: redis.Redis, subscriber_id: str, text_key: str) -> None:
    """The claim is dropped as if never made (consent ended while it waited)."""
    client.hdel(keys.caregiver_sent(subscriber_id), text_key, f"{text_key}_lease",
                f"{text_key}_since")


def retry_text(client: redis.Redis, subscriber_id: str, text_key: str, error: str,
               uncertain: str | None = None, not_before: float | None = None) -> None:
    """A transient failure: the next attempt may claim it again, looking up first the
    `uncertain` attempts ("first:last") the provider may have, not before `not_before`."""
    _write_sent(client, subscriber_id,
                sends.retry_fields(text_key, error, uncertain, not_before),
                f"{text_key}_lease", f"{text_key}_since")


def note_text_attempts(client: redis.Redis, subscriber_id: str, text_key: str,
                       attempts: str) -> None:
    """Earlier attempts that may have reached the provider go on with this one."""
    client.hset(keys.caregiver_sent(subscriber_id), f"{text_key}_since", attempts)


def text_data_attempt(client: redis.Redis, subscriber_id: str, text_key: str
                      ) -> tuple[str, str]:
    """(when an earlier email attempt reached DATA, its Date header); "" for none."""
    values = client.hmget(keys.caregiver_sent(subscriber_id), f"{text_key}_data_at",
                          f"{text_key}_date")
    return codec.text(values[0]), codec.text(values[1])


def record_text_data_attempt(client: redis.Redis, subscriber_id: str, text_key: str,
                             message_id: str, date_header: str, at: float) -> None:
    _write_sent(client, subscriber_id,
                sends.data_attempt_fields(text_key, message_id, date_header, at))


def _write_sent(client: redis.Redis, subscriber_id: str, fields: dict[str, str],
                *drop: str) -> None:
    key = keys.caregiver_sent(subscriber_id)
    with client.pipeline() as pipe:
        pipe.hset(key, mapping=fields)  # type: ignore[arg-type]
        if drop:
            pipe.hdel(key, *drop)
        pipe.expire(key, keys.CARE_SENT_TTL_SECONDS)
        pipe.execute()


def text_state(client: redis.Redis, subscriber_id: str, text_key: str) -> str:
    return codec.text(client.hget(keys.caregiver_sent(subscriber_id), text_key))
