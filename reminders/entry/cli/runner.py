"""`reminders run`: web + worker + beat in one process group, plus a demo subscriber.

This is what `make run` calls. Ctrl-C (or SIGTERM) stops every process it started.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time as clock
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from reminders.app.preferences import Enrolment, enrol
from reminders.domain.subscriber import Subscriber
from reminders.domain.validation import EARLIEST_SEND, LATEST_SEND
from reminders.settings import PROJECT_ROOT
from reminders.wiring import Services

DEMO_PHONE = "+12025550100"  # a fictional 555-01xx number
# Real places first, so the demo looks like a real subscriber; any zone as a last resort.
DEMO_ZONES = (
    "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles",
    "Pacific/Honolulu", "Pacific/Auckland", "Australia/Sydney", "Asia/Tokyo", "Asia/Shanghai",
    "Asia/Kolkata", "Asia/Dubai", "Europe/Moscow", "Europe/Athens", "Europe/Berlin",
    "Europe/London", "Atlantic/Azores", "America/Sao_Paulo", "America/Halifax",
    "America/Anchorage", "Pacific/Pago_Pago", "Pacific/Kiritimati", "Asia/Kathmandu",
)


def demo_zone(target: datetime) -> tuple[str, time]:
    """A zone where `target` falls in the allowed evening window, and the local time there."""
    fallback = [f"Etc/GMT{'+' if h < 0 else '-'}{abs(h)}" if h else "UTC" for h in range(-12, 15)]
    for name in (*DEMO_ZONES, *fallback):
        local = target.astimezone(ZoneInfo(name)).time().replace(second=0, microsecond=0)
        if EARLIEST_SEND <= local <= LATEST_SEND:
            return name, local
    raise RuntimeError("no time zone puts the demo in the evening window")  # 24h covered


def enrol_demo(svc: Services, now: datetime) -> Subscriber:
    existing = svc.store.find(DEMO_PHONE)
    if existing is not None:
        svc.store.delete(existing, suppress=False)  # a fresh demo, with a fresh night record
    # The next whole minute at least 45 s away: time to start up, and beat ticks on the minute.
    target = (now + timedelta(seconds=45 + 59)).replace(second=0, microsecond=0)
    zone, local = demo_zone(target)
    return enrol(svc.store, svc.settings, Enrolment(
        phone=DEMO_PHONE, name="Demo Subscriber", timezone=zone, time=local.strftime("%H:%M"),
        confirmed=True, source="demo",
    ), now)


def _spawn(argv: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(argv, cwd=PROJECT_ROOT, env=env)


# A child that crashes is started again (Celery can die on a lost broker connection), unless it
# keeps crashing: then everything stops, loudly.
MAX_RESTARTS_PER_MINUTE = 5


class Child:
    def __init__(self, name: str, argv: list[str], env: dict[str, str]) -> None:
        self.name, self.argv, self.env = name, argv, env
        self.proc = _spawn(argv, env)
        self.restarts: list[float] = []

    def restart_if_dead(self) -> bool:
        """False when it has crashed too often to go on."""
        if self.proc.poll() is None:
            return True
        now = clock.monotonic()
        self.restarts = [t for t in self.restarts if now - t < 60] + [now]
        if len(self.restarts) > MAX_RESTARTS_PER_MINUTE:
            print(f"reminders run: {self.name} keeps exiting (code {self.proc.returncode}); "
                  "stopping", file=sys.stderr, flush=True)
            return False
        print(f"reminders run: {self.name} exited (code {self.proc.returncode}); restarting",
              file=sys.stderr, flush=True)
        self.proc = _spawn(self.argv, self.env)
        return True


def run_all(svc: Services, demo: bool, port: int) -> int:
    svc.check()
    var = PROJECT_ROOT / "var"
    var.mkdir(exist_ok=True)
    bin_dir = Path(sys.executable).parent
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    celery = str(bin_dir / "celery")
    children = [
        Child("web", [sys.executable, "-m", "reminders", "web", "--port", str(port)], env),
        Child("worker", [celery, "-A", "worker", "worker", "--loglevel=INFO",
                         "--hostname=worker@%h"], env),
        Child("beat", [celery, "-A", "worker", "beat", "--loglevel=INFO",
                       "--schedule", str(var / "celerybeat-schedule")], env),
    ]
    if demo:
        sub = enrol_demo(svc, datetime.now(UTC))
        due = svc.store.next_due(sub.id)
        assert due is not None
        print(f"\n*** Demo subscriber {sub.phone} ({sub.timezone}) gets tonight's reminder at "
              f"{sub.send_time:%H:%M} local = {due:%H:%M} UTC, about "
              f"{max(0, int((due - datetime.now(UTC)).total_seconds()))} s from now. "
              f"Messages print here and land in {svc.settings.outbox_dir}. Ctrl-C stops. ***\n",
              flush=True)
    return _supervise(children)


def _supervise(children: list[Child]) -> int:
    stopping = False

    def stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    healthy = True
    while not stopping and healthy:
        clock.sleep(0.5)
        healthy = stopping or all(child.restart_if_dead() for child in children)
    for child in children:
        if child.proc.poll() is None:
            child.proc.send_signal(signal.SIGTERM)
    deadline = clock.monotonic() + 15
    for child in children:
        try:
            child.proc.wait(timeout=max(0.1, deadline - clock.monotonic()))
        except subprocess.TimeoutExpired:
            child.proc.kill()
    return 0 if healthy else 1
