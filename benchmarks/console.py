"""`python -m benchmarks.console [N]`: how fast the console's pages answer with N people
(default 10,000), over real HTTP against the real app (werkzeug, one request at a time).

Not part of `make bench`'s table: the console's own check. It
starts a private redis-server, writes N people with benchmarks/population.py (as enrol()
stores them; a name that differs per person, 1 in 100 flagged), logs an operator in and
times each page: the median and the slowest of a few requests.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import shutil
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests
from werkzeug.serving import make_server

from benchmarks import population
from benchmarks.common import private_redis
from reminders.app.console import operators
from reminders.entry.web.app import create_app
from reminders.settings import load_settings
from reminders.storage import flags as flag_lists
from reminders.wiring import build

PAGES = ("/console/", "/console/people", "/console/people?page=100",
         "/console/people?q=robert%2017", "/console/people?q=%2B13122001234",
         "/console/people?state=flagged", "/console/people?state=sms:active&page=3",
         "/console/people/%2B13122000042", "/console/flags")
REPEAT = 5


def seed(svc: object, n: int, now: datetime) -> None:
    client = svc.redis  # type: ignore[attr-defined]
    subs = [dataclasses.replace(population.make(i, now), name=f"{population.NAMES[i % 8]} {i}")
            for i in range(n)]
    flagged = [dataclasses.replace(sub, flag_until=now.date() + timedelta(days=5))
               for sub in subs[::100]]
    population.write(client, [*subs, *flagged], now)
    for sub in flagged:
        flag_lists.add(client, sub.id, {"at": "2026-01-01T20:00:00Z", "category": "wound",
                                        "text": "a blister"}, now.timestamp())


def main(argv: list[str]) -> int:
    n = int(argv[0]) if argv else 10_000
    workdir = Path(tempfile.mkdtemp(prefix="reminders-console-bench-"))
    try:
        with private_redis(workdir) as (url, _pid):
            svc = build(load_settings({"REDIS_URL": url, "OUTBOX_DIR": str(workdir / "out")},
                                      dotenv=False))
            now = datetime.now(UTC)
            started = time.perf_counter()
            seed(svc, n, now)
            print(f"wrote {n} people in {time.perf_counter() - started:.1f} s")
            operators.add(svc.store, "bench@example.org", "bench password 123", now, "bench")
            logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access log lines
            server = make_server("127.0.0.1", 0, create_app(svc), threaded=True)
            threading.Thread(target=server.serve_forever, daemon=True).start()
            base = f"http://127.0.0.1:{server.server_port}"
            try:
                measure(base)
            finally:
                server.shutdown()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


def measure(base: str) -> None:
    http = requests.Session()
    page = http.get(base + "/console/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    http.post(base + "/console/login", data={"email": "bench@example.org",
                                            "password": "bench password 123",
                                            "csrf_token": token})
    for path in PAGES:
        times = []
        for _ in range(REPEAT):
            started = time.perf_counter()
            response = http.get(base + path, allow_redirects=False)
            times.append(time.perf_counter() - started)
            assert response.status_code == 200, (path, response.status_code)
        found = re.search(r"(\d+) found", response.text)
        print(f"{path:45} median {statistics.median(times) * 1000:7.0f} ms, "
              f"slowest {max(times) * 1000:7.0f} ms"
              + (f"  ({found.group(1)} found)" if found else ""))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
