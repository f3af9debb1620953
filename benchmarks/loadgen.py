"""Open-loop HTTP load at a fixed arrival rate, in its own process (row 5).

Request i is due at t0 + i / rate whether or not earlier ones have been answered, and its latency
is measured from that instant, so a slow server cannot hide its queue by slowing the client
down (no coordinated omission). A pool of threads with keep-alive sessions sends them.

    python -m benchmarks.loadgen SPEC.json RESULTS.json
SPEC: {"base_url", "rate", "threads", "requests": [{"method", "path", "data", "headers"}]}
RESULTS: [[scheduled offset s, latency s, HTTP status or 0, start lag s], ...]
"""

from __future__ import annotations

import json
import queue
import sys
import threading
import time
from pathlib import Path
from typing import Any

import requests


def main(argv: list[str]) -> int:
    spec = json.loads(Path(argv[0]).read_text())
    reqs: list[dict[str, Any]] = spec["requests"]
    base, rate = spec["base_url"], float(spec["rate"])
    results: list[list[float] | None] = [None] * len(reqs)
    work: queue.Queue[tuple[int, float] | None] = queue.Queue()
    t0 = time.perf_counter() + 0.5

    def sender() -> None:
        session = requests.Session()
        while (item := work.get()) is not None:
            i, due = item
            req = reqs[i]
            began = time.perf_counter()
            try:
                status = session.request(req["method"], base + req["path"], data=req.get("data"),
                                         headers=req.get("headers"), timeout=10).status_code
            except requests.RequestException:
                status = 0
            results[i] = [due - t0, time.perf_counter() - due, status, began - due]

    threads = [threading.Thread(target=sender, daemon=True) for _ in range(spec["threads"])]
    for thread in threads:
        thread.start()
    for i in range(len(reqs)):
        due = t0 + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        work.put((i, due))
    for _ in threads:
        work.put(None)
    for thread in threads:
        thread.join(30)
    Path(argv[1]).write_text(json.dumps([r for r in results if r is not None]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
