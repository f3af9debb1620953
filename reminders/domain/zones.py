"""Time zones as a coordinator picks them: the US zones by their common names first (Central =
America/Chicago), then every other IANA zone by its name."""

from __future__ import annotations

from functools import cache
from zoneinfo import available_timezones

COMMON_US = (
    ("Eastern (New York, Miami)", "America/New_York"),
    ("Central (Chicago, Dallas)", "America/Chicago"),
    ("Mountain (Denver)", "America/Denver"),
    ("Mountain, no daylight saving (Arizona)", "America/Phoenix"),
    ("Pacific (Los Angeles, Seattle)", "America/Los_Angeles"),
    ("Alaska", "America/Anchorage"),
    ("Hawaii", "Pacific/Honolulu"),
    ("Atlantic (Puerto Rico)", "America/Puerto_Rico"),
)


@cache
def other_zones() -> tuple[str, ...]:
    common = {zone for _, zone in COMMON_US}
    return tuple(sorted(z for z in available_timezones()
                        if z not in common and "/" in z and not z.startswith(("Etc/", "SystemV/"))))


def common_name(zone: str) -> str:
    """"Central (Chicago, Dallas)" for America/Chicago; the zone itself otherwise."""
    return next((name for name, known in COMMON_US if known == zone), zone)
