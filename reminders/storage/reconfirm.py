"""The yearly re-confirmation's claims (keys.reconfirm(year)): who was asked in which year, and
what came of it. One hash per year; HSETNX makes the ask at most once per person and year, and
the states only move forward: asking -> asked -> yes | paused (failed: the provider refused the
number for good).
"""

from __future__ import annotations

from redis.exceptions import WatchError

from reminders.storage import codec, keys
from reminders.storage.client import Client

STATES = ("asking", "asked", "yes", "paused", "failed")


def who(subscriber_id: str, caregiver: bool = False) -> str:
    return f"cg:{subscriber_id}" if caregiver else subscriber_id


def claim(client: Client, year: int, person: str, now: float) -> bool:
    """Whether this caller may ask `person` this year (False: someone already did)."""
    key = keys.reconfirm(year)
    with client.pipeline() as pipe:
        pipe.hsetnx(key, person, f"asking:{int(now)}")
        pipe.expire(key, keys.RECONFIRM_TTL_SECONDS)
        claimed, _ = pipe.execute()
    return bool(claimed)


def release(client: Client, year: int, person: str) -> None:
    """The ask could not be sent (the provider was busy): the next run may claim it again."""
    client.hdel(keys.reconfirm(year), person)


def mark(client: Client, year: int, person: str, state: str, now: float) -> None:
    client.hset(keys.reconfirm(year), person, f"{state}:{int(now)}")


def settle(client: Client, year: int, person: str, state: str, now: float,
           from_state: str = "asking") -> bool:
    """An ask in `from_state` (default: unfinished, "asking") moves to `state`, once: True for
    the one caller that moved it (two runs that both see the message sent record it once; two
    that both find the 14 days over pause once)."""
    key = keys.reconfirm(year)
    with client.pipeline() as pipe:
        try:
            pipe.watch(key)
            current = codec.text(pipe.hget(key, person))
            if not current.startswith(f"{from_state}:"):
                return False
            pipe.multi()
            pipe.hset(key, person, f"{state}:{int(now)}")
            pipe.execute()
        except WatchError:  # another run changed the year's asks meanwhile: look again
            return settle(client, year, person, state, now, from_state)
    return True


def read(client: Client, year: int, person: str) -> tuple[str, float] | None:
    """(state, since) of this year's ask, or None when not asked this year."""
    raw = client.hget(keys.reconfirm(year), person)
    if raw is None:
        return None
    state, _, since = codec.text(raw).partition(":")
    return state, float(since or 0)


def asked(client: Client, year: int) -> dict[str, tuple[str, float]]:
    """Everyone asked in `year`: person -> (state, since)."""
    found = client.hgetall(keys.reconfirm(year))
    result = {}
    for person, value in found.items():
        state, _, since = codec.text(value).partition(":")
        result[codec.text(person)] = (state, float(since or 0))
    return result
