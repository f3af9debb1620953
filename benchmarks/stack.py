"""The running service for the end-to-end rows: the fake Twilio API, a worker, a beat."""

from __future__ import annotations

import json
import statistics
import threading
import time
from dataclasses import dataclass
from datetime import datetime

from benchmarks.common import BIN, Context, Group, cpu_seconds, rss_bytes, wait_until


@dataclass(frozen=True)
class Sent:
    at: float  # epoch seconds, the fake's clock when it accepted the message
    segments: int
    to: str
    received: float = 0.0  # when its request arrived (before the fake's --latency)


class Fake:
    """testing/twilio_api.py in its own process (TCP_NODELAY, one write per response)."""

    def __init__(self, ctx: Context, latency: str = "0") -> None:
        """`latency`: seconds per message creation, as the fake's --latency takes it."""
        tag = "" if latency == "0" else f"-{latency.replace(',', '-')}"
        ready = ctx.workdir / f"fake-twilio{tag}.url"
        self.log_path = ctx.workdir / f"fake-twilio{tag}.jsonl"
        ready.unlink(missing_ok=True)
        self.group = Group("fake-twilio", [
            str(BIN / "python"), "-m", "testing.twilio_api", "--port", "0",
            "--ready-file", str(ready), "--log-file", str(self.log_path),
            "--latency", latency], {}, ctx.workdir / f"fake-twilio{tag}.log")
        wait_until(ready.exists, 30, "the fake Twilio API to listen")
        self.url = ready.read_text().strip()
        self.log_path.touch()

    def offset(self) -> int:
        return self.log_path.stat().st_size

    def count(self, offset: int) -> int:
        with self.log_path.open("rb") as fh:
            fh.seek(offset)
            return fh.read().count(b"\n")

    def sent(self, offset: int) -> list[Sent]:
        with self.log_path.open("rb") as fh:
            fh.seek(offset)
            data = fh.read()
        found = []
        for line in data.split(b"\n")[:-1]:  # the last piece may still be being written
            rec = json.loads(line)
            created = datetime.fromisoformat(rec["created_at"]).timestamp()
            received = rec.get("received_at")
            found.append(Sent(created, int(rec["num_segments"]), rec["to"],
                              datetime.fromisoformat(received).timestamp() if received
                              else created))
        return found

    def cpu(self) -> float:
        return cpu_seconds(self.group.pids())

    def stop(self) -> None:
        self.group.stop()


class Service:
    """`celery -A worker worker` and, once asked, `celery -A worker beat`.

    `concurrency=None`: compose's command exactly (`celery -A worker worker --loglevel=INFO`,
    the default pool and size), with only a node name of its own, as each container has.
    """

    def __init__(self, ctx: Context, env: dict[str, str], name: str,
                 concurrency: int | None = 2) -> None:
        self.ctx, self.env, self.name = ctx, env, name
        tuned = ([] if concurrency is None else
                 [f"--concurrency={concurrency}", "--without-gossip", "--without-mingle"])
        self.worker = Group(f"worker-{name}", [
            str(BIN / "celery"), "-A", "worker", "worker", "--loglevel=INFO",
            f"--hostname=bench-{name}@%h", *tuned], env, ctx.workdir / f"worker-{name}.log")
        self.beat: Group | None = None
        wait_until(lambda: "ready." in self.worker.log() or not self.worker.alive(), 90,
                   "the celery worker to be ready", interval=0.2)
        if not self.worker.alive():
            raise RuntimeError(f"worker {name} died:\n{self.worker.log()[-3000:]}")

    def start_beat(self) -> None:
        self.beat = Group(f"beat-{self.name}", [
            str(BIN / "celery"), "-A", "worker", "beat", "--loglevel=INFO",
            "--schedule", str(self.ctx.workdir / f"beat-{self.name}.db")],
            self.env, self.ctx.workdir / f"beat-{self.name}.log")

    def worker_pids(self) -> list[int]:
        return self.worker.pids()

    def our_pids(self) -> list[int]:
        return self.worker.pids() + (self.beat.pids() if self.beat else [])

    def cpu(self) -> float:
        return cpu_seconds(self.our_pids())

    def rss(self) -> int:
        return rss_bytes(self.worker_pids())

    def settle_rss(self, seconds: float = 2.0) -> int:
        """Median worker RSS (main + pool children) over a short quiet period."""
        samples = []
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            samples.append(self.rss())
            time.sleep(0.2)
        return int(statistics.median(samples))

    def stop(self) -> None:
        if self.beat is not None:
            self.beat.stop()
        self.worker.stop()


class RssSampler:
    """Worker RSS every 0.25 s in a thread, for the peak while it works."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.samples: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.25):
            self.samples.append(self.service.rss())

    def stop(self) -> int:
        self._stop.set()
        self._thread.join(5)
        return max(self.samples, default=0)


def wait_for_count(fake: Fake, offset: int, count: int, timeout: float) -> int:
    """Wait until `count` messages were accepted since `offset`; how many there are."""
    deadline = time.monotonic() + timeout
    seen = fake.count(offset)
    while seen < count and time.monotonic() < deadline:
        time.sleep(0.1)
        seen = fake.count(offset)
    return seen


def sleep_until(epoch: float) -> None:
    delay = epoch - time.time()
    if delay > 0:
        time.sleep(delay)


def first_message(fake: Fake, offset: int, timeout: float) -> float:
    wait_until(lambda: fake.sent(offset), timeout, "the first message", interval=0.02)
    return fake.sent(offset)[0].at
