"""Start-up checks: a Redis that could evict the schedule is refused with one clear line."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis

from reminders.settings import Settings
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


def test_a_short_secret_key_is_refused_naming_the_variable(twilio_cli: Cli) -> None:
    for short in ("x", "s" * 31, "é" * 15):
        result = Cli({**twilio_cli.env, "SECRET_KEY": short})("list")
        lines = result.stderr.strip().splitlines()
        assert result.returncode == 2 and len(lines) == 1 and "SECRET_KEY" in lines[0], lines
        assert "32 bytes" in lines[0] and short not in lines[0]
    assert Cli({**twilio_cli.env, "SECRET_KEY": "s" * 32})("list").returncode == 0


def test_console_mode_signs_with_a_random_key_kept_in_its_var_dir(tmp_path: Path) -> None:
    from reminders.messages import tokens
    from reminders.settings import load_settings

    def settings(var: str) -> Settings:
        return load_settings({"OUTBOX_DIR": str(tmp_path / var / "outbox")}, dotenv=False)

    first, again, other = settings("a"), settings("a"), settings("b")
    assert first.console_mode and len(first.secret_key) >= 32
    assert first.secret_key == again.secret_key != other.secret_key
    kept = tmp_path / "a" / "console-secret"
    assert kept.stat().st_mode & 0o777 == 0o600
    assert "console-mode-not-secret" not in kept.read_text()
    link = tokens.make_token(first.secret_key, tokens.UNSUBSCRIBE, "abc", "ana@example.org")
    assert tokens.read_token(again.secret_key, tokens.UNSUBSCRIBE, link).subscriber_id == "abc"
    for secret in (other.secret_key, "console-mode-not-secret"):
        with pytest.raises(tokens.BadToken):
            tokens.read_token(secret, tokens.UNSUBSCRIBE, link)


@pytest.mark.parametrize("variable,value", [
    ("REDIS_URL", "http://user:hunter2-pass@redis.internal:6379/0"),
    ("CELERY_BROKER_URL", "ftp://guest:hunter2-pass@rabbit.internal:5672//"),
    ("REDIS_URL", "redis://:hunter2-pass@127.0.0.1:1/0"),  # valid, but nothing answers there
    ("REDIS_URL", "sentinel://:hunter2-pass@h1:26379;bad"),
])
def test_configuration_errors_never_print_a_password(cli: Cli, variable: str,
                                                     value: str) -> None:
    result = Cli({**cli.env, variable: value})("list")
    assert result.returncode != 0
    assert "hunter2" not in result.stderr + result.stdout and "***" in result.stderr
    assert variable in result.stderr and len(result.stderr.strip().splitlines()) == 1
