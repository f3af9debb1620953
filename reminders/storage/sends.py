"""The send records of the message kinds kept per owner (keys_care.sends): the silence check-in
and the yearly re-confirmation (owner: the person), the care team's email about a review item
(owner: "review-<item id>"). One hash per owner, one field per message ("<kind>:<period>",
its idempotency key less the owner), claimed with lua/care_claim.lua: the same outcomes and
fields as a caregiver's text (claimed, reclaimed with the attempts a lost answer may have
reached the provider with, busy, wait, done), so the send path's look-up works the same.

Owners never contain ":" (the message-id index splits on the first one).
"""

from __future__ import annotations

import json

from reminders.storage import codec, keys, message_index
from reminders.storage import keys_care as care_keys
from reminders.storage.client import Client, Pipeline
from reminders.storage.lua import script as lua_script

TTL = care_keys.SENDS_TTL_SECONDS


def claim(client: Client, owner: str, field: str, now: float, lease_seconds: float
          ) -> tuple[str, str]:
    """(claimed | reclaimed | busy | wait | done, detail): see lua/care_claim.lua."""
    raw = lua_script(client, "care_claim")(
        keys=[care_keys.sends(owner)], args=[field, now, now + lease_seconds, TTL])
    outcome, detail = (codec.text(x) for x in raw)
    return outcome, detail


def finish(client: Client, owner: str, field: str, state: str, provider_id: str = "",
           index: bool = False, **fields: str) -> None:
    """The message's final state (and `fields`: status, error, reason, as `<field>_<name>`),
    and (`index`) its provider id in the message-id index, in one step."""
    key = care_keys.sends(owner)
    with client.pipeline() as pipe:
        if index and provider_id:
            message_index.set_sends_in(pipe, provider_id, owner, field, TTL)
        pipe.hset(key, mapping={field: state, f"{field}_id": provider_id,
                                **{f"{field}_{name}": v for name, v in fields.items()}})
        pipe.hdel(key, f"{field}_lease", f"{field}_since")
        pipe.expire(key, TTL)
        pipe.execute()


def retry(client: Client, owner: str, field: str, error: str, uncertain: str | None = None,
          not_before: float | None = None) -> None:
    """A transient failure: the next attempt may claim it again, looking up first the
    `uncertain` attempts ("first:last") the provider may have, not before `not_before`."""
    _write(client, owner, retry_fields(field, error, uncertain, not_before), f"{field}_lease",
           f"{field}_since")


def retry_fields(field: str, error: str, uncertain: str | None = None,
                 not_before: float | None = None) -> dict[str, str]:
    """What a retry writes for message `field` in a hash claimed with lua/care_claim.lua
    (these records and a caregiver's texts, storage/caregivers.py, alike)."""
    fields = {field: "retry", f"{field}_error": error}
    if uncertain is not None:
        fields[f"{field}_uncertain"] = uncertain
    if not_before is not None:
        fields[f"{field}_not_before"] = repr(not_before)
    return fields


def release(client: Client, owner: str, field: str) -> None:
    """The claim is dropped as if never made (consent ended while it waited, no slot came):
    a later attempt claims it afresh."""
    client.hdel(care_keys.sends(owner), field, f"{field}_lease", f"{field}_since")


def note_attempts(client: Client, owner: str, field: str, attempts: str) -> None:
    client.hset(care_keys.sends(owner), f"{field}_since", attempts)


def data_attempt(client: Client, owner: str, field: str) -> tuple[str, str]:
    """(when an earlier email attempt reached DATA, its Date header); "" for none."""
    values = client.hmget(care_keys.sends(owner), f"{field}_data_at", f"{field}_date")
    return codec.text(values[0]), codec.text(values[1])


def record_data_attempt(client: Client, owner: str, field: str, message_id: str,
                        date_header: str, at: float) -> None:
    _write(client, owner, data_attempt_fields(field, message_id, date_header, at))


def data_attempt_fields(field: str, message_id: str, date_header: str, at: float
                        ) -> dict[str, str]:
    """What an email attempt that reached DATA writes for message `field` (as retry_fields)."""
    return {f"{field}_id": message_id, f"{field}_date": date_header,
            f"{field}_data_at": f"{at:.3f}"}


def advance_status(client: Client, owner: str, field: str, status: str, error_code: str,
                   ranks: dict[str, int], label: str) -> bool:
    """Apply a delivery status if it moves forward (lua/care_status.lua; the metrics count a
    terminal one under `label`, the kind's name)."""
    changed = lua_script(client, "care_status")(
        keys=[care_keys.sends(owner), keys.METRICS],
        args=[field, status, error_code, json.dumps(ranks), label])
    return bool(changed)


def state(client: Client, owner: str, field: str) -> str:
    """claimed/sending | retry | sent | failed | missed | "" (never claimed)."""
    return codec.text(client.hget(care_keys.sends(owner), field))


def read(client: Client, owner: str, field: str) -> dict[str, str]:
    """The message's state and its `<name>` fields (id, status, error...)."""
    raw = client.hgetall(care_keys.sends(owner))
    found = {codec.text(k): codec.text(v) for k, v in raw.items()}
    prefix = f"{field}_"
    result = {name[len(prefix):]: v for name, v in found.items() if name.startswith(prefix)}
    if field in found:
        result["state"] = found[field]
    return result


def forget_in(client: Client, pipe: Pipeline, owner: str) -> None:
    """Queue the removal of an owner's send records and of their provider ids' message-index
    entries (`forget`), in the caller's transaction."""
    raw = client.hgetall(care_keys.sends(owner))
    for name, value in raw.items():
        if codec.text(name).endswith("_id") and value:
            pipe.delete(keys.message_index(codec.text(value)))
    pipe.delete(care_keys.sends(owner))


def _write(client: Client, owner: str, fields: dict[str, str], *drop: str) -> None:
    key = care_keys.sends(owner)
    with client.pipeline() as pipe:
        pipe.hset(key, mapping=fields)  # type: ignore[arg-type]
        if drop:
            pipe.hdel(key, *drop)
        pipe.expire(key, TTL)
        pipe.execute()
