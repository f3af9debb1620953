"""Sentinels that require a password of their own (requirepass in sentinel.conf) in front of a
master that requires another: REDIS_SENTINEL_PASSWORD opens the sentinels, the URL's password
the master, for the data client and the Celery broker alike. Without the sentinels' password the
command stops with one line naming REDIS_URL, and neither password is printed.

A real redis-server and a real sentinel on free ports; nothing is faked.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from reminders.entry.celery.app import producer_for
from reminders.settings import load_settings
from reminders.wiring import build
from tests.conftest import Cli
from tests.sentinels import MASTER, guarded_sentinel

MASTER_PASSWORD = "master-secret-1"
SENTINEL_PASSWORD = "sentinel-secret-2"


@pytest.fixture
def sentinel_url(tmp_path: Path) -> Iterator[str]:
    with guarded_sentinel(tmp_path, MASTER_PASSWORD, SENTINEL_PASSWORD) as (_, url):
        yield url


def env_for(url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"REDIS_URL": url, "REDIS_SENTINEL_MASTER": MASTER, "SMS_BACKEND": "console",
            "EMAIL_BACKEND": "console", "OUTBOX_DIR": str(tmp_path / "outbox"), **extra}


def test_the_sentinels_password_opens_the_data_client_and_the_broker(
        sentinel_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in env_for(sentinel_url, tmp_path,
                               REDIS_SENTINEL_PASSWORD=SENTINEL_PASSWORD).items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    svc = build(settings)
    svc.check_storage()
    svc.redis.set("fc:test:probe", "1")
    master = svc.redis.connection_pool.get_master_address()  # type: ignore[attr-defined]
    direct = redis.Redis(host=master[0], port=master[1], password=MASTER_PASSWORD)
    assert direct.get("fc:test:probe") == b"1"
    producer_for(settings).send_task("reminders.import_csv", args=("0" * 16,))
    assert direct.llen("celery") == 1  # the broker reached the same master through them


def test_without_it_one_line_names_redis_url_and_prints_no_password(
        sentinel_url: str, tmp_path: Path) -> None:
    result = Cli(env_for(sentinel_url, tmp_path), process=True)("list")
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "REDIS_URL" in output and "Traceback" not in output, output
    assert MASTER_PASSWORD not in output and SENTINEL_PASSWORD not in output, output
