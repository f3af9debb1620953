"""The Lua scripts of storage/lua/, one file each, loaded once and run by name.

Each script opens with named locals for its KEYS and ARGV and a comment saying what it
guarantees; the typed wrappers that call them live in the module owning the structure.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from redis.commands.core import Script

from reminders.storage.client import Client

LUA_DIR = Path(__file__).with_name("lua")


INCLUDE = "-- include: "


@cache
def source(name: str) -> str:
    """The script's text; each leading line `-- include: NAME` puts NAME.lua's functions
    first (in the order of those lines)."""
    text = (LUA_DIR / f"{name}.lua").read_text(encoding="utf-8")
    included = []
    while text.startswith(INCLUDE):
        first, _, text = text.partition("\n")
        included.append(source(first.removeprefix(INCLUDE).strip()))
    return "\n".join([*included, text])


def script(client: Client, name: str) -> Script:
    # register_script only hashes the source; EVALSHA falls back to EVAL when it is not cached.
    return client.register_script(source(name))
