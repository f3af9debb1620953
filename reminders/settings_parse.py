"""The checks of the configuration variables that are more than a type and a range (URLs,
zones, clock times, key lists, CA files); a mistake is a ConfigError whose one line names the
variable. Types and ranges are pydantic's (the table of variables is settings.py)."""

from __future__ import annotations

import math
import os
import re
import ssl
from datetime import time
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from reminders.domain.windows import Window, parse_state_windows, parse_window


class ConfigError(ValueError):
    """A configuration variable is missing or invalid; the message names it."""


def _int(name: str, raw: str, low: int, high: int) -> int:
    try:
        value = int(raw.strip())
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low} and {high}, got {value}")
    return value


def _choice(name: str, raw: str, allowed: tuple[str, ...]) -> str:
    value = raw.strip().lower()
    if value not in allowed:
        raise ConfigError(f"{name} must be one of {', '.join(allowed)}, got {raw!r}")
    return value


_HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def _hhmm(name: str, raw: str) -> time:
    match = _HHMM.match(raw.strip())
    if not match:
        raise ConfigError(f"{name} must be HH:MM (24-hour), got {raw!r}")
    return time(int(match.group(1)), int(match.group(2)))


def _timezone(name: str, raw: str) -> str:
    value = raw.strip()
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{name} is not a known IANA time zone: {raw!r}") from None
    return value


def _url(name: str, raw: str) -> str:
    value = raw.strip().rstrip("/")
    if not re.match(r"^https?://[^/\s]+", value):
        raise ConfigError(f"{name} must be an http(s) URL, got {shown_url(raw)}")
    return value


def _email_address(name: str, raw: str) -> str:
    value = raw.strip()
    if not re.match(r"^[^@\s]+@[^@\s]+$", value):
        raise ConfigError(f"{name} must be an email address, got {raw!r}")
    return value


def _shared_keys(name: str, raw: str) -> tuple[tuple[str, str], ...]:
    pairs = []
    for item in raw.split(","):
        key_id, separator, secret = item.strip().partition("=")
        if not (separator and key_id.strip() and secret.strip()):
            raise ConfigError(f"{name} must be KEY_ID=SECRET pairs separated by commas")
        pairs.append((key_id.strip(), secret.strip()))
    return tuple(pairs)


def _carrier_map(name: str, raw: str) -> tuple[tuple[str, float], ...]:
    """`tmobile=2000,att=4`: carrier names (lower-case letters, digits, _) and positive
    numbers, separated by commas (CARRIER_DAILY_CAPS, CARRIER_MPS, CARRIER_MIX)."""
    pairs = []
    for item in raw.split(","):
        carrier, separator, value = item.strip().partition("=")
        carrier = carrier.strip().lower()
        try:
            number = float(value)
        except ValueError:
            number = -1.0
        if not (separator and re.fullmatch(r"[a-z0-9_]{1,20}", carrier) and number > 0
                and math.isfinite(number)):
            raise ConfigError(f"{name} must be CARRIER=NUMBER pairs separated by commas "
                              f"(e.g. tmobile=2000), each number above 0")
        pairs.append((carrier, number))
    if len({carrier for carrier, _ in pairs}) != len(pairs):
        raise ConfigError(f"{name} names a carrier twice")
    return tuple(pairs)


def _carrier_mix(name: str, raw: str) -> tuple[tuple[str, float], ...]:
    pairs = _carrier_map(name, raw)
    if sum(share for _, share in pairs) > 1.0001:
        raise ConfigError(f"{name}: the shares add up to more than 1")
    return pairs


# One sentinel of a `sentinel://h1:26379;sentinel://h2:26379/0` list (kombu's form).
_SENTINEL = re.compile(r"^sentinel://([^@/;\s]+@)?[^:/;@\s]+(:\d{1,5})?(/\d{1,2})?/?$")


def shown_url(raw: str) -> str:
    """A URL as an error message may print it: any password (user:PASSWORD@) replaced by ***."""
    return repr(re.sub(r"(://[^:/@;\s]*:)[^@;\s]*@", r"\1***@", raw))


def _redis_url(name: str, raw: str) -> str:
    value = raw.strip()
    if value.startswith("sentinel://"):
        if not all(_SENTINEL.match(part.strip()) for part in value.split(";")):
            raise ConfigError(f"{name} must be sentinel://HOST:PORT[;sentinel://HOST:PORT...][/DB]"
                              f", got {shown_url(raw)}")
        return ";".join(part.strip() for part in value.split(";"))
    if not re.match(r"^(redis|rediss|unix)://", value):
        raise ConfigError(f"{name} must start with redis://, rediss://, unix:// or sentinel://, "
                          f"got {shown_url(raw)}")
    return value


def _broker_url(name: str, raw: str) -> str:
    """A Redis (as REDIS_URL) or RabbitMQ (amqp://, amqps://) broker."""
    value = raw.strip()
    if re.match(r"^(amqp|amqps|pyamqp)://", value):
        return value
    try:
        return _redis_url(name, value)
    except ConfigError:
        raise ConfigError(f"{name} must start with redis://, rediss://, sentinel://, amqp:// or "
                          f"amqps://, got {shown_url(raw)}") from None


def _replicas(name: str, raw: str) -> int | None:
    """`auto` (None: one when the master has a replica) or how many replicas must ack."""
    if raw.strip().lower() == "auto":
        return None
    return _int(name, raw, 0, 5)


def _ca_file(name: str, raw: str) -> Path:
    path = Path(raw.strip()).expanduser()
    try:
        ssl.create_default_context(cafile=str(path))
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"{name} must be a PEM file of CA certificates, got {raw!r}: "
                          f"{getattr(exc, 'strerror', None) or exc}") from None
    return path


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _weekday(name: str, raw: str) -> int:
    """A weekday by name, as date.weekday() numbers it (0 Monday .. 6 Sunday)."""
    return WEEKDAYS.index(_choice(name, raw, WEEKDAYS))


def console_secret(var_dir: Path) -> str:
    """Console mode's key for link tokens and the console's cookie: random, made once per
    var/ directory and kept there (0600), so links keep working across restarts and nobody
    else's copy of the code knows it (a constant in the source would sign for anyone)."""
    path = var_dir / "console-secret"
    try:
        return path.read_text().strip() or _new_secret(path)
    except FileNotFoundError:
        return _new_secret(path)


def _new_secret(path: Path) -> str:
    import secrets

    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    try:  # O_EXCL: two processes starting together agree on the first one's key
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as out:
        out.write(value + "\n")
    return value


# A shorter SECRET_KEY can be guessed offline from one signed link.
MIN_SECRET_BYTES = 32


def check_secret(console_mode: bool, secret: str) -> None:
    if not console_mode and not secret:
        raise ConfigError("SECRET_KEY is required outside console mode")
    if not console_mode and len(secret.encode()) < MIN_SECRET_BYTES:
        raise ConfigError(f"SECRET_KEY must be at least {MIN_SECRET_BYTES} bytes (make one with: "
                          "python -c 'import secrets; print(secrets.token_urlsafe(48))')")


def _path(name: str, raw: str) -> Path:
    return Path(raw).expanduser()


def _windows(name: str, raw: str) -> Window | tuple[tuple[str, Window], ...]:
    """SEND_WINDOW "16:00-21:00"; STATE_WINDOWS "FL=08:00-20:00,..." or "none" (no state
    narrows SEND_WINDOW; unset: Florida and Oklahoma, the default)."""
    try:
        return parse_window(raw) if name == "SEND_WINDOW" else parse_state_windows(raw)
    except ValueError as e:
        raise ConfigError(f"{name}: {e}") from None


def check_default_time(default: time, window: Window) -> None:
    if default not in window:
        raise ConfigError(f"DEFAULT_SEND_TIME must be inside SEND_WINDOW ({window})")
