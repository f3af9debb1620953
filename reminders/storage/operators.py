"""Operators of the web console: accounts (keys.OPERATORS), login sessions
(keys.console_session) and failed-login counters (keys.login_failures). The only module that
reads or writes them. Hashing and the rules (how many failures, how long a session) are the
app's (app/console/operators.py); this module stores what it is given.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from reminders.storage import codec, keys
from reminders.storage.client import Client


@dataclass(frozen=True)
class OperatorRecord:
    email: str
    id: str  # new at every `operator add`: sessions name it
    password_hash: str
    created_at: str


def get(client: Client, email: str) -> OperatorRecord | None:
    raw: Any = client.hget(keys.OPERATORS, email.lower())
    return _decode(email.lower(), raw) if raw is not None else None


def put(client: Client, record: OperatorRecord) -> None:
    client.hset(keys.OPERATORS, record.email.lower(), json.dumps(
        {"id": record.id, "hash": record.password_hash, "created_at": record.created_at}))


def remove(client: Client, email: str) -> bool:
    return bool(client.hdel(keys.OPERATORS, email.lower()))


def all_records(client: Client) -> list[OperatorRecord]:
    raw: Any = client.hgetall(keys.OPERATORS)
    records = [_decode(codec.text(name), value) for name, value in raw.items()]
    return sorted(records, key=lambda r: r.email)


def _decode(email: str, raw: str | bytes) -> OperatorRecord:
    value = json.loads(raw)
    return OperatorRecord(email, value["id"], value["hash"], value.get("created_at", ""))


# -- sessions -------------------------------------------------------------------------------
def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(client: Client, token: str, email: str, operator_id: str,
                 seconds: int) -> None:
    client.set(keys.console_session(_digest(token)), f"{email.lower()} {operator_id}",
               ex=seconds)


def session(client: Client, token: str) -> tuple[str, str] | None:
    """(email, operator id) of a live session; None once it expired or was closed."""
    raw: Any = client.get(keys.console_session(_digest(token)))
    if raw is None:
        return None
    email, _, operator_id = codec.text(raw).partition(" ")
    return email, operator_id


def close_session(client: Client, token: str) -> None:
    client.delete(keys.console_session(_digest(token)))


# -- failed logins --------------------------------------------------------------------------
def count_attempt(client: Client, account: str, address: str, window_seconds: int
                  ) -> tuple[int, int]:
    """Count one login attempt against the account and the address, atomically, before any
    password is checked: (attempts lately for the account, for the address), this one
    included. Parallel attempts each get their own number, so no more than the limit are
    ever checked. Each count lasts `window_seconds` from its first attempt."""
    with client.pipeline() as pipe:  # MULTI/EXEC
        for key in (keys.login_failures("account", account),
                    keys.login_failures("address", address)):
            pipe.incr(key)
            pipe.expire(key, window_seconds, nx=True)
        by_account, _, by_address, _ = pipe.execute()
    return int(by_account), int(by_address)


def uncount_address(client: Client, address: str) -> None:
    """A right password: its attempt is not held against the address."""
    client.decr(keys.login_failures("address", address))


def forget_failures(client: Client, account: str) -> None:
    """A successful login clears its account's count (not its address's: one right password
    must not reset the count of an address trying many accounts)."""
    client.delete(keys.login_failures("account", account))
