"""A password-protected primary and one sentinel on free loopback ports, for the tests of the
sentinels' own password (tests/storage/test_sentinel_auth.py,
tests/storage/test_sentinel_url_auth.py): real redis-server processes, nothing faked."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis

from tests.conftest import free_port, need, wait_until

MASTER = "reminders"


@contextmanager
def guarded_sentinel(tmp_path: Path, master_password: str,
                     sentinel_password: str) -> Iterator[tuple[int, str]]:
    """(the sentinel's port, the sentinel:// URL with the master's password) once the
    sentinel knows the master; both servers stop on leaving."""
    binary = shutil.which("redis-server")
    need(binary is not None, "redis-server is not installed")
    assert binary is not None
    primary, sentinel = free_port(), free_port()
    conf = tmp_path / "sentinel.conf"
    conf.write_text(f"port {sentinel}\nbind 127.0.0.1\ndir {tmp_path}\n"
                    f"requirepass {sentinel_password}\n"
                    f"sentinel monitor {MASTER} 127.0.0.1 {primary} 1\n"
                    f"sentinel auth-pass {MASTER} {master_password}\n")
    procs = [subprocess.Popen([binary, "--port", str(primary), "--bind", "127.0.0.1",
                               "--save", "", "--appendonly", "no", "--requirepass",
                               master_password, "--maxmemory-policy", "noeviction"],
                              cwd=tmp_path, stdout=subprocess.DEVNULL),
             subprocess.Popen([binary, str(conf), "--sentinel"], cwd=tmp_path,
                              stdout=subprocess.DEVNULL)]
    try:
        def knows_master() -> bool:
            try:
                return bool(redis.Redis(port=sentinel, password=sentinel_password)
                            .sentinel_get_master_addr_by_name(MASTER))
            except redis.RedisError:
                return False

        wait_until(knows_master, 30, "the sentinel to know the master")
        yield sentinel, f"sentinel://:{master_password}@127.0.0.1:{sentinel}/0"
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(10)
