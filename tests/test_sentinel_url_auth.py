"""Sentinels with a password (`requirepass`, as docker-compose.yml's sentinel profile runs them):
the data client and the Celery broker both get through them to the master.

Real servers on loopback: a primary and one sentinel, both asking for the same password. Before
the sentinels were given the URL's credentials, every client was refused ("No master found",
AuthenticationError), which only the compose stack showed (tests/stack/run_stack.py).
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import kombu
import pytest
import redis

from reminders.settings import load_settings
from reminders.storage.client import connect
from tests.conftest import free_port, need, pings, wait_until

PASSWORD = "s3cret-for-sentinels"
MASTER = "reminders"


@pytest.fixture
def guarded_sentinel(tmp_path: Path) -> Iterator[str]:
    """The sentinel:// URL of a password-protected primary and sentinel."""
    binary = shutil.which("redis-server")
    need(binary is not None, "redis-server")
    primary, sentinel = free_port(), free_port()
    conf = tmp_path / "sentinel.conf"
    conf.write_text(f"port {sentinel}\nbind 127.0.0.1\ndir {tmp_path}\n"
                    f"sentinel monitor {MASTER} 127.0.0.1 {primary} 1\n"
                    f"sentinel auth-pass {MASTER} {PASSWORD}\nrequirepass {PASSWORD}\n")
    procs = [subprocess.Popen([str(binary), "--port", str(primary), "--bind", "127.0.0.1",
                               "--save", "", "--requirepass", PASSWORD], cwd=tmp_path,
                              stdout=subprocess.DEVNULL),
             subprocess.Popen([str(binary), str(conf), "--sentinel"], cwd=tmp_path,
                              stdout=subprocess.DEVNULL)]
    try:
        for port in (primary, sentinel):
            wait_until(lambda p=port: pings(redis.Redis(port=p, password=PASSWORD)), 20,
                       f"redis on {port}")
        # Without the password the sentinel refuses, as in the compose stack.
        with pytest.raises(redis.AuthenticationError):
            redis.Redis(port=sentinel).sentinel_masters()
        yield f"sentinel://:{PASSWORD}@127.0.0.1:{sentinel}/0"
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(10)


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
