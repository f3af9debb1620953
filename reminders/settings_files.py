"""The files configuration comes from besides the environment: `.env` and `var/redis.url`.

First found wins: a real environment variable, then `.env` in the working directory, then (for
REDIS_URL only) the file `make run` writes, STATE_DIR/redis.url, naming the Redis it chose or
started (possibly a private one on port 6390), then the built-in default. So a `reminders`
command typed in a second terminal talks to the Redis `make run` is using, with no REDIS_URL.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
REDIS_URL_FILE = "redis.url"


def state_dir(env: Mapping[str, str]) -> Path:
    """Where local state lives (STATE_DIR; default: var/ in the project)."""
    raw = env.get("STATE_DIR", "").strip()
    return Path(raw).expanduser() if raw else PROJECT_ROOT / "var"


def load_dotenv_file() -> None:
    from dotenv import load_dotenv

    # Real environment variables win over the file, as operators expect.
    load_dotenv(Path.cwd() / ".env", override=False)


def remembered_redis_url(env: Mapping[str, str]) -> str | None:
    """The URL in STATE_DIR/redis.url, or None when there is no such file (or it is empty)."""
    try:
        text = (state_dir(env) / REDIS_URL_FILE).read_text(encoding="utf-8").strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    return text or None


def redis_url_origin() -> str:
    """Where this process's REDIS_URL came from, for an error message."""
    if os.environ.get("REDIS_URL", "").strip():
        return "REDIS_URL"
    path = state_dir(os.environ) / REDIS_URL_FILE
    if remembered_redis_url(os.environ):
        return f"REDIS_URL (read from {path}, written by `make run`)"
    return "REDIS_URL (not set: the default)"
