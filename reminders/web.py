"""The contract's gunicorn entry point, `reminders.web:wsgi_app`; the app is entry/web/app.py."""

from reminders.entry.web.app import create_app, wsgi_app

__all__ = ["create_app", "wsgi_app"]
