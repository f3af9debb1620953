"""Start-up checks: a Redis that could evict the schedule is refused with one clear line."""

from __future__ import annotations

import redis

from tests.conftest import Cli


def test_eviction_policy_other_than_noeviction_is_refused(cli: Cli, redis_client: redis.Redis
                                                          ) -> None:
    redis_client.config_set("maxmemory-policy", "allkeys-lru")
    try:
        result = cli("run", "--no-demo")
        assert result.returncode == 1
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "noeviction" in lines[0] and "allkeys-lru" in lines[0]
    finally:
        redis_client.config_set("maxmemory-policy", "noeviction")


def test_unreachable_redis_is_one_line(cli: Cli) -> None:
    broken = Cli({**cli.env, "REDIS_URL": "redis://127.0.0.1:1/0"})
    result = broken("list")
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1 and "REDIS_URL" in result.stderr


def test_visibility_timeout_must_fit_the_late_limit(cli: Cli) -> None:
    result = Cli({**cli.env, "LATE_LIMIT_MINUTES": "2", "BROKER_VISIBILITY_TIMEOUT": "600"})("list")
    assert result.returncode == 2 and "BROKER_VISIBILITY_TIMEOUT" in result.stderr
