"""The processes `reminders run` starts (web, worker, beat) and what of their output is shown.

Their output is read line by line and passed on to ours, so the supervisor can tell when each is
ready and can leave out what means nothing to a newcomer: Celery's and werkzeug's INFO chatter
(connections, a dispatch tick every minute, request lines) and Flask's banner. Every WARNING,
ERROR, traceback and every message the console backends print still shows; `--verbose` shows
everything.
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time as clock
from collections.abc import Callable
from typing import IO

from reminders.settings import PROJECT_ROOT

# "2026-12-07 15:19:51,120 INFO celery.worker.consumer.connection Connected to ..." (logs.FORMAT)
_LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (?P<level>[A-Z]+) (?P<logger>\S+) ")
_CHATTY_LOGGERS = ("celery", "kombu", "werkzeug", "reminders.entry.web")
# Flask's banner, and Celery's notes on Ctrl-C (the supervisor says it stops everything).
_BANNERS = (" * Serving Flask app", " * Debug mode:", " * Running on", "Press CTRL+C",
            "worker: Hitting Ctrl+C again", "worker: Warm shutdown")
# What each process prints once it is ready to work (Celery's own INFO lines).
READY_MARKERS = {"worker": " ready.", "beat": "beat: Starting..."}


def newcomer_sees(line: str) -> bool:
    """False for start-up and routine chatter; True for anything that may matter."""
    if line.startswith(_BANNERS):
        return False
    found = _LOG_LINE.match(line)
    if found is None:
        return True  # our console backends' messages, tracebacks, warnings module output
    return not (found["level"] in ("DEBUG", "INFO")
                and found["logger"].startswith(_CHATTY_LOGGERS))


class Output:
    """Our stdout, shared by the reader threads and the supervisor (one line at a time)."""

    def __init__(self, verbose: bool, stream: IO[str] | None = None) -> None:
        self.verbose = verbose
        self.stream = stream or sys.stdout
        self.lock = threading.Lock()
        self.ready: dict[str, threading.Event] = {name: threading.Event()
                                                  for name in READY_MARKERS}
        self.last_line_at = clock.monotonic()
        # A blank line is held until the child's next line: Celery puts one before each note
        # it prints on Ctrl-C, and it goes (or shows) with that note.
        self.blank_before: set[str] = set()

    def child_line(self, name: str, line: str) -> None:
        marker = READY_MARKERS.get(name)
        if marker and marker in line:
            self.ready[name].set()
        if not line.strip() and not self.verbose:
            self.blank_before.add(name)
            return
        if self.verbose or newcomer_sees(line):
            if name in self.blank_before:
                self.say("")
            self.say(line)
        self.blank_before.discard(name)

    def say(self, text: str) -> None:
        with self.lock:
            self.stream.write(text + "\n")
            self.stream.flush()
            self.last_line_at = clock.monotonic()

    def quiet_for(self, seconds: float) -> bool:
        return clock.monotonic() - self.last_line_at >= seconds


# A child that crashes is started again (Celery can die on a lost broker connection), unless it
# keeps crashing: then everything stops, loudly. Exit status 2 is bad input or configuration
# (a port in use, a bad variable): starting it again would fail the same way.
MAX_RESTARTS_PER_MINUTE = 5
BAD_INPUT = 2


class Child:
    def __init__(self, name: str, argv: list[str], env: dict[str, str], out: Output) -> None:
        self.name, self.argv, self.env, self.out = name, argv, env, out
        self.restarts: list[float] = []
        self.readers: list[threading.Thread] = []
        self.proc = self._spawn()

    def _spawn(self) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(self.argv, cwd=PROJECT_ROOT, env=self.env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        reader = threading.Thread(target=self._pump, args=(proc,), daemon=True,
                                  name=f"{self.name}-output")
        reader.start()
        self.readers.append(reader)
        return proc

    def _pump(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdout is not None
        for raw in iter(proc.stdout.readline, b""):
            self.out.child_line(self.name, raw.decode(errors="replace").rstrip("\r\n"))

    def restart_if_dead(self, say: Callable[[str], None]) -> int | None:
        """None while it runs (or was restarted); else the exit status to stop everything with."""
        code = self.proc.poll()
        if code is None:
            return None
        self.flush()
        if code == BAD_INPUT:
            say(f"reminders run: {self.name} refused to start (see above); stopping")
            return BAD_INPUT
        now = clock.monotonic()
        self.restarts = [t for t in self.restarts if now - t < 60] + [now]
        if len(self.restarts) > MAX_RESTARTS_PER_MINUTE:
            say(f"reminders run: {self.name} keeps exiting (code {code}); stopping")
            return 1
        say(f"reminders run: {self.name} exited (code {code}); restarting")
        self.proc = self._spawn()
        return None

    def flush(self, timeout: float = 2.0) -> None:
        """Wait until what the exited process printed has been passed on."""
        for reader in self.readers:
            reader.join(timeout)
        self.readers = [reader for reader in self.readers if reader.is_alive()]
