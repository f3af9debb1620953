"""Celery entry point: `celery -A worker worker` and `celery -A worker beat`."""

from reminders.celery_app import app

__all__ = ["app"]
