"""The compose stack as the stack test drives it from outside the containers.

`Stack` runs docker compose (docker-compose.yml plus tests/stack/compose.test.yml) under a
project name of its own, with the secrets and the 127.0.0.1 ports of one run; `Double` reads
what the Twilio double took, through its REST API. Standard library only: the stack test needs
no virtualenv on the host.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PROJECT = "footcare-stacktest"
FILES = ("docker-compose.yml", "tests/stack/compose.test.yml")
# The double's account, as in tests/stack/compose.test.yml.
ACCOUNT_SID = "AC0123456789abcdef0123456789abcdef"
AUTH_TOKEN = "test-token"
PUBLIC_URL = "http://web:8000"


class StackFailure(AssertionError):
    """A check of the stack test failed: one line saying which and what was seen."""


def check(ok: object, what: str) -> None:
    if not ok:
        raise StackFailure(what)


def say(text: str) -> None:
    print(f"stack-test: {text}", flush=True)


def wait_until(ready: Callable[[], object], timeout: float, what: str,
               every: float = 0.5) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = ready()
        if value:
            return value
        if time.monotonic() > deadline:
            raise StackFailure(f"{what}: not within {timeout:.0f} s")
        time.sleep(every)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Stack:
    """docker compose with this run's files, project name, secrets, ports and profile."""

    def __init__(self, compose: Sequence[str], images_env: Path, state: Path) -> None:
        self.compose = list(compose)
        self.web_port, self.twilio_port = free_port(), free_port()
        redis_password = secrets.token_hex(16)
        self.rabbitmq_password = secrets.token_hex(16)
        state.mkdir(parents=True, exist_ok=True)
        # The app's settings file (STACK_ENV_FILE): only the secret; the test's settings are
        # in the override, the rest are the defaults.
        app_env = state / "app.env"
        app_env.write_text(f"SECRET_KEY={secrets.token_urlsafe(48)}\n")
        app_env.chmod(0o600)
        self.env = {**os.environ, **_read_env(images_env),
                    "REDIS_PASSWORD": redis_password,
                    "RABBITMQ_PASSWORD": self.rabbitmq_password,
                    "FLOWER_BASIC_AUTH": f"admin:{secrets.token_hex(8)}",
                    "STACK_ENV_FILE": str(app_env),
                    "STACK_WEB_PORT": f"127.0.0.1:{self.web_port}",
                    "STACK_FLOWER_PORT": str(free_port()),
                    "STACK_TWILIO_PORT": str(self.twilio_port)}
        self.redis_password = redis_password
        self.profile: str | None = None
        self.use(None)

    def use(self, profile: str | None, **variables: str) -> None:
        """The profile (and its STACK_* variables) of the next `up`."""
        for name in ("STACK_SENTINEL_MASTER", "STACK_BROKER_URL"):
            self.env.pop(name, None)
        # docker-compose.yml's default, said outright (tests/stack/compose.test.yml says why).
        self.env["STACK_REDIS_URL"] = f"redis://:{self.redis_password}@redis:6379/0"
        self.env.update(variables)
        self.profile = profile

    def run(self, *args: str, input: str | None = None, check_ok: bool = True,
            timeout: float = 300) -> subprocess.CompletedProcess[str]:
        profile = ["--profile", self.profile] if self.profile else []
        command = [*self.compose, "--project-name", PROJECT,
                   *(part for f in FILES for part in ("--file", f)), *profile, *args]
        done = subprocess.run(command, cwd=ROOT, env=self.env, input=input, text=True,
                              capture_output=True, timeout=timeout, check=False)
        if check_ok and done.returncode != 0:
            raise StackFailure(f"{' '.join(args)} exited {done.returncode}: "
                               f"{(done.stderr or done.stdout)[-2000:]}")
        return done

    def exec(self, service: str, *args: str, input: str | None = None) -> str:
        return self.run("exec", "-T", service, *args, input=input).stdout

    def get(self, path: str) -> tuple[int, str]:
        url = f"http://127.0.0.1:{self.web_port}{path}"
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()
        except OSError:
            return 0, ""

    def post_signed(self, path: str, params: dict[str, str]) -> int:
        """POST a webhook signed as Twilio signs it, for the URL the web app checks."""
        payload = PUBLIC_URL + path + "".join(k + params[k] for k in sorted(params))
        signature = base64.b64encode(hmac.new(AUTH_TOKEN.encode(), payload.encode(),
                                              hashlib.sha1).digest()).decode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.web_port}{path}",
            data=urllib.parse.urlencode(params).encode(), method="POST",
            headers={"X-Twilio-Signature": signature,
                     "Content-Type": "application/x-www-form-urlencoded"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)

    def started(self, services: Sequence[str]) -> dict[str, str]:
        """Each service's container start time and restart count (a restart changes it)."""
        seen = {}
        for service in services:
            ids = self.run("ps", "-q", service).stdout.split()
            check(len(ids) == 1, f"{service}: one container expected, got {ids}")
            seen[service] = subprocess.run(
                ["docker", "inspect", "-f", "{{.State.StartedAt}} {{.RestartCount}}", ids[0]],
                capture_output=True, text=True, check=True).stdout.strip()
        return seen

    def leftovers(self) -> list[str]:
        """Containers, networks and volumes of the test's project still on the engine."""
        label = f"label=com.docker.compose.project={PROJECT}"
        found = []
        for kind in ("container", "network", "volume"):
            listing = ["docker", kind, "ls", "-q", "--filter", label]
            if kind == "container":
                listing.insert(3, "--all")
            names = subprocess.run(listing, capture_output=True, text=True,
                                   check=True).stdout.split()
            found += [f"{kind} {name}" for name in names]
        return found


class Double:
    """The Twilio double's messages, through its REST API on the published port."""

    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
        token = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
        self.headers = {"Authorization": f"Basic {token}"}

    def messages(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        url: str | None = self.base + "?PageSize=1000"
        while url:
            request = urllib.request.Request(url, headers=self.headers)
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    page = json.load(response)
            except OSError:
                return []  # not up yet
            found += page["messages"]
            next_uri = page.get("next_page_uri")
            url = urllib.parse.urljoin(self.base, next_uri) if next_uri else None
        return found

    def per_phone(self) -> Counter[str]:
        return Counter(message["to"] for message in self.messages())


def _read_env(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {name.strip(): value.strip() for name, value in pairs}
