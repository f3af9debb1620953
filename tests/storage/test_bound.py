"""app/ reaches Redis only through the Store's typed objects (storage/structures.py): it never
names a client (import-linter: "No redis in app/") nor reads a `.redis` attribute (below), and
what it reads comes back as records, never raw hashes."""

from __future__ import annotations

import ast
from datetime import date
from pathlib import Path

import redis

from reminders.settings import PROJECT_ROOT
from reminders.storage import keys, nights
from reminders.storage.subscriber_codec import Undecodable
from reminders.storage.subscribers import Store

APP = PROJECT_ROOT / "reminders" / "app"


def redis_attributes(source: str) -> list[int]:
    """Lines of `source` that read an attribute named `redis` (store.redis, self.redis)."""
    return [node.lineno for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Attribute) and node.attr == "redis"]


def test_no_app_module_reads_a_redis_attribute() -> None:
    found = [f"{path.relative_to(APP)}:{line}" for path in sorted(APP.rglob("*.py"))
             for line in redis_attributes(Path(path).read_text())]
    assert found == []


def test_the_check_sees_a_client_taken_from_the_store() -> None:
    assert redis_attributes("def f(store):\n    return store.redis.get('x')\n") == [2]
    assert redis_attributes("def f(store):\n    return store.nights.read('a', d)\n") == []


def test_a_bound_function_writes_what_the_module_function_writes(
        redis_client: redis.Redis) -> None:
    store = Store(redis_client)
    evening = date(2027, 3, 1)
    store.nights.note("s1", evening, done="1")
    nights.note(redis_client, "s2", evening, done="1")
    assert redis_client.hgetall(keys.night("s1", evening)) == redis_client.hgetall(
        keys.night("s2", evening)) != {}
    assert store.nights.read("s1", evening)["done"] == "1"
    # Built once per Store and kept: app/ may reach for it on every call.
    assert store.nights is store.nights and store.nights.read is store.nights.read


def test_damaged_and_forgotten_records_come_back_typed(redis_client: redis.Redis) -> None:
    store = Store(redis_client)
    redis_client.hset(keys.subscriber("broken"), mapping={"t": "25:99", "z": "Nowhere/Zone"})
    found = store.read_many(["broken", "nobody"])
    assert isinstance(found[0], Undecodable) and found[1] is None
    assert store.read("nobody") is None
    assert store.exist_many(["broken", "nobody"]) == [True, False]
