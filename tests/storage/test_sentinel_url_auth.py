"""Sentinels with a password (`requirepass`, as docker-compose.yml's sentinel profile runs them):
the data client and the Celery broker both get through them to the master.

Real servers on loopback: a primary and one sentinel, both asking for the same password. Before
the sentinels were given the URL's credentials, every client was refused ("No master found",
AuthenticationError), which only the compose stack showed (tests/stack/run_stack.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import kombu
import pytest
import redis

from reminders.settings import load_settings
from reminders.storage.client import connect
from tests import sentinels
from tests.sentinels import MASTER

PASSWORD = "s3cret-for-sentinels"


@pytest.fixture
def guarded_sentinel(tmp_path: Path) -> Iterator[str]:
    """The sentinel:// URL of a primary and sentinel both asking for the same password."""
    with sentinels.guarded_sentinel(tmp_path, PASSWORD, PASSWORD) as (port, url):
        # Without the password the sentinel refuses, as in the compose stack.
        with pytest.raises(redis.AuthenticationError):
            redis.Redis(port=port).sentinel_masters()
        yield url


def test_the_data_client_reaches_the_master_through_guarded_sentinels(
        guarded_sentinel: str) -> None:
    client = connect(guarded_sentinel, MASTER)
    client.set("written-through-sentinel", "yes")
    assert client.get("written-through-sentinel") == b"yes"


def test_the_celery_broker_reaches_the_master_through_guarded_sentinels(
        guarded_sentinel: str) -> None:
    from reminders.entry.celery.app import broker_url_for, transport_options_for

    settings = load_settings({"REDIS_URL": guarded_sentinel, "REDIS_SENTINEL_MASTER": MASTER})
    with kombu.Connection(broker_url_for(settings),
                          transport_options=transport_options_for(settings)) as connection:
        queue = connection.SimpleQueue("sentinel-auth-check")
        queue.put({"through": "sentinel"})
        assert queue.get(timeout=5).payload == {"through": "sentinel"}
        queue.close()
