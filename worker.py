"""Celery entry point: `celery -A worker worker` and `celery -A worker beat`."""

from reminders.entry.celery.app import app

__all__ = ["app"]
