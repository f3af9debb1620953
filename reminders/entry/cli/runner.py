"""`reminders run`: web + worker + beat in one process group, plus a demo subscriber.

This is what `make run` calls. A port in use is one line and exit status 2, before anything
starts. Once all three are up it says so, and says when the demo reminder is due, as the last
thing on the screen; it says again when that reminder was sent. Ctrl-C (or SIGTERM) stops every
process it started.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time as clock
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from urllib.request import urlopen
from zoneinfo import ZoneInfo

from reminders.app.people.preferences import Enrolment, enrol
from reminders.domain.subscriber import Subscriber
from reminders.domain.validation import InvalidInput
from reminders.domain.windows import DEFAULT_WINDOWS, Window
from reminders.entry.cli.children import Child, Output
from reminders.wiring import Services

HOST = "127.0.0.1"  # the web app of `run` is for this machine only
# Start-up normally takes seconds; past this the demo line is printed anyway.
READY_TIMEOUT_SECONDS = 90

DEMO_PHONE = "+12025550100"  # a fictional 555-01xx number
# Real places first, so the demo looks like a real subscriber; any zone as a last resort.
DEMO_ZONES = (
    "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles",
    "Pacific/Honolulu", "Pacific/Auckland", "Australia/Sydney", "Asia/Tokyo", "Asia/Shanghai",
    "Asia/Kolkata", "Asia/Dubai", "Europe/Moscow", "Europe/Athens", "Europe/Berlin",
    "Europe/London", "Atlantic/Azores", "America/Sao_Paulo", "America/Halifax",
    "America/Anchorage", "Pacific/Pago_Pago", "Pacific/Kiritimati", "Asia/Kathmandu",
)


def demo_zone(target: datetime, window: Window = DEFAULT_WINDOWS.general) -> tuple[str, time]:
    """A zone where `target` falls in the allowed evening window, and the local time there."""
    fallback = [f"Etc/GMT{'+' if h < 0 else '-'}{abs(h)}" if h else "UTC" for h in range(-12, 15)]
    for name in (*DEMO_ZONES, *fallback):
        local = target.astimezone(ZoneInfo(name)).time().replace(second=0, microsecond=0)
        if local in window:
            return name, local
    raise RuntimeError("no time zone puts the demo in the evening window")  # 24h covered


def enrol_demo(svc: Services, now: datetime, lead_seconds: int = 45) -> Subscriber:
    existing = svc.store.find(DEMO_PHONE)
    if existing is not None:
        svc.store.delete(existing, suppress=False)  # a fresh demo, with a fresh night record
    # The next whole minute at least `lead_seconds` away: time to start up (a send time is a
    # whole minute, and beat ticks on the minute).
    target = (now + timedelta(seconds=lead_seconds + 59)).replace(second=0, microsecond=0)
    zone, local = demo_zone(target, svc.settings.windows.for_phone(DEMO_PHONE))
    return enrol(svc.store, svc.settings, Enrolment(
        phone=DEMO_PHONE, name="Demo Subscriber", timezone=zone, time=local.strftime("%H:%M"),
        confirmed=True, source="demo",
    ), now)


def port_is_free(host: str, port: int) -> None:
    """Raise InvalidInput (one clear line, exit 2) when `port` cannot be listened on."""
    if not 1 <= port <= 65535:
        raise InvalidInput(f"--port must be between 1 and 65535, not {port}")
    with socket.socket() as probe:
        # As the web server does: a connection still closing (TIME_WAIT) does not count.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except PermissionError:
            raise InvalidInput(f"port {port} needs administrator rights; choose one above 1023: "
                               f"make run PORT=8080 (or reminders run --port 8080)") from None
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise
            raise InvalidInput(f"port {port} is already in use by another program; choose "
                               f"another: make run PORT=8080 (or reminders run --port 8080)"
                               ) from None


def run_all(svc: Services, demo: bool, port: int, verbose: bool = False,
            demo_lead_seconds: int = 45) -> int:
    port_is_free(HOST, port)
    svc.check()
    state = svc.settings.state_dir
    state.mkdir(parents=True, exist_ok=True)
    bin_dir = Path(sys.executable).parent
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    if not verbose:
        # Celery warns about running as root at every start: true, and nothing a newcomer
        # trying the demo on a laptop or in a container can act on.
        env["PYTHONWARNINGS"] = "ignore:You're running the worker with superuser privileges"
    if "PUBLIC_URL" not in env:
        env["PUBLIC_URL"] = f"http://{HOST}:{port}"  # links in emails point at this web app
    celery = [str(bin_dir / "celery"), *([] if verbose else ["--quiet"]), "-A", "worker"]
    started = clock.monotonic()
    # Enrolled before anything starts: the lead counts start-up time in.
    sub = enrol_demo(svc, datetime.now(UTC), demo_lead_seconds) if demo else None
    out = Output(verbose)
    children = [
        Child("web", [sys.executable, "-m", "reminders", "web", "--port", str(port)], env, out),
        Child("worker", [*celery, "worker", "--loglevel=INFO", "--hostname=worker@%h"], env, out),
        Child("beat", [*celery, "beat", "--loglevel=INFO",
                       "--schedule", str(state / "celerybeat-schedule")], env, out),
    ]
    if sub is None:
        return _supervise(children, out, lambda: _ready(out, port), lambda: out.say(
            f"reminders run: web app on http://{HOST}:{port}/; Ctrl-C stops"), lambda: None)
    watch = DemoWatch(svc, sub, out, started)
    return _supervise(children, out, lambda: _ready(out, port), lambda: watch.announce(port),
                      watch.check)


def _ready(out: Output, port: int) -> bool:
    if not all(event.is_set() for event in out.ready.values()):
        return False
    try:
        with urlopen(f"http://{HOST}:{port}/healthz", timeout=2) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


class DemoWatch:
    """Says when the demo reminder is due (once everything is up) and when it was sent."""

    def __init__(self, svc: Services, sub: Subscriber, out: Output, started: float) -> None:
        self.svc, self.sub, self.out, self.started = svc, sub, out, started
        self.due = svc.store.next_due(sub.id)
        self.outbox = svc.settings.outbox_dir
        self.seen = set(self.outbox.glob("sms-*.json")) if self.outbox.is_dir() else set()
        self.announced = self.sent = self.late = False

    def announce(self, port: int) -> None:
        self.announced = True
        seconds = max(0, int((self.due - datetime.now(UTC)).total_seconds())) if self.due else 0
        self.out.say(f"\nreminders run: ready in {clock.monotonic() - self.started:.0f} s. "
                     f"Web app: http://{HOST}:{port}/healthz, operators' console: "
                     f"http://{HOST}:{port}/console")
        self.out.say(f"\n*** Demo subscriber {self.sub.phone} ({self.sub.timezone}, "
                     f"{self.sub.send_time:%H:%M} local): first reminder in about {seconds} s. "
                     f"Messages print here and land in {self.outbox}. Ctrl-C stops. ***\n")

    def check(self) -> None:
        if self.sent or self.svc.settings.sms_backend != "console":
            return  # with a real provider the text leaves no file in the outbox
        sent = self._sent_file()
        if sent is not None:
            self.sent = True
            self._wait_for_the_message_itself()
            self.out.say(f"\n*** Demo subscriber {self.sub.phone}: the first reminder was sent "
                         f"(above; a copy is in {sent}). Try, in another terminal: "
                         f".venv/bin/reminders show {self.sub.phone} or "
                         f".venv/bin/reminders reply {self.sub.phone} DONE. Ctrl-C stops. ***\n")
        elif self.due and not self.late and datetime.now(UTC) > self.due + timedelta(seconds=90):
            self.late = True
            self.out.say(f"reminders run: the demo reminder was due at {self.due:%H:%M:%S} UTC "
                         "and has not been sent; the lines above should say why")

    def _sent_file(self) -> Path | None:
        """The outbox file of a text to the demo subscriber written since `run` started."""
        if not self.outbox.is_dir():
            return None
        for path in sorted(set(self.outbox.glob("sms-*.json")) - self.seen):
            self.seen.add(path)
            if json.loads(path.read_text()).get("to") == self.sub.phone:
                return path
        return None

    def _wait_for_the_message_itself(self) -> None:
        # The outbox file is written just before the worker prints the message: let it print.
        deadline = clock.monotonic() + 3
        while not self.out.quiet_for(0.5) and clock.monotonic() < deadline:
            clock.sleep(0.1)


def _supervise(children: list[Child], out: Output, ready: Callable[[], bool],
               on_ready: Callable[[], None], on_tick: Callable[[], None]) -> int:
    stopping = threading.Event()
    signal.signal(signal.SIGINT, lambda _signum, _frame: stopping.set())
    signal.signal(signal.SIGTERM, lambda _signum, _frame: stopping.set())
    status: int | None = None
    up = False
    deadline = clock.monotonic() + READY_TIMEOUT_SECONDS
    while status is None and not stopping.wait(0.25):
        status = _restart_the_dead(children, out)
        if status is None and not up:
            up = _started(ready, deadline, out, on_ready)
        elif status is None:
            on_tick()
    _stop(children)
    out.say("reminders run: stopped web, worker and beat")
    return status or 0


def _restart_the_dead(children: list[Child], out: Output) -> int | None:
    for child in children:
        status = child.restart_if_dead(out.say)
        if status is not None:
            return status
    return None


def _started(ready: Callable[[], bool], deadline: float, out: Output,
             on_ready: Callable[[], None]) -> bool:
    late = clock.monotonic() > deadline
    if not (ready() or late):
        return False
    if late:
        out.say(f"reminders run: not everything is ready after {READY_TIMEOUT_SECONDS} s; "
                "the lines above should say why")
    on_ready()
    return True


def _stop(children: list[Child]) -> None:
    for child in children:
        if child.proc.poll() is None:
            child.proc.send_signal(signal.SIGTERM)
    end = clock.monotonic() + 15
    for child in children:
        try:
            child.proc.wait(timeout=max(0.1, end - clock.monotonic()))
        except subprocess.TimeoutExpired:
            child.proc.kill()
        child.flush()
