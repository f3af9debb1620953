"""What the failover waits (storage/replicas.py) cost per text: the night claim and the send
record, without and with a replica to wait for (loopback, one process, one text after the
other). Run: .venv/bin/python -m benchmarks.failover_wait
"""

from __future__ import annotations

import shutil
import time
from datetime import UTC, date, datetime

import redis

from reminders.storage import nights, replicas
from tests.conftest import private_redis, wait_until

TEXTS = 3000


def main() -> None:
    binary = shutil.which("redis-server") or "redis-server"
    primary_server = private_redis(binary, "--maxmemory-policy", "noeviction")
    primary = next(primary_server)
    port = primary.rsplit(":", 1)[1].split("/")[0]
    replica_server = private_redis(binary, "--replicaof", "127.0.0.1", port)
    next(replica_server)
    wait_until(lambda: redis.Redis.from_url(primary).wait(1, 100) == 1, 30, "the replica")
    try:
        for waited in (0, 1):
            client = redis.Redis.from_url(primary)
            replicas.configure(client, waited, 500)
            day = date(2030, 1, waited + 1)
            started = time.perf_counter()
            for n in range(TEXTS):
                nights.claim(client, f"s{n}", day, "sms", datetime.now(UTC), 15)
                nights.finish(client, f"s{n}", day, "sms", "sent", message_index=f"SM{n}",
                              id=f"SM{n}", status="queued")
            per_text = (time.perf_counter() - started) / TEXTS * 1000
            print(f"replicas_waited={waited} claim+send record per text: {per_text:.3f} ms")
    finally:
        next(replica_server, None)  # runs the generator on: it stops the server
        next(primary_server, None)


if __name__ == "__main__":
    main()
