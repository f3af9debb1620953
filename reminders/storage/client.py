"""The Redis client type, for the layers above storage/ that hold one without importing redis."""

from __future__ import annotations

from redis import Redis as Client
from redis.client import Pipeline

__all__ = ["Client", "Pipeline"]
