"""The Flask adapter: webhooks and health. Thin: it parses HTTP and calls the core."""

from __future__ import annotations

import redis
from flask import Flask, jsonify

from reminders.services import Services


def create_app(svc: Services) -> Flask:
    app = Flask("reminders")
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024  # a webhook body is a few hundred bytes

    @app.get("/healthz")
    def healthz():  # type: ignore[no-untyped-def]
        try:
            svc.redis.ping()
        except redis.RedisError:
            return jsonify(redis="unavailable"), 503
        return jsonify(redis="ok")

    return app


def wsgi_app() -> Flask:
    """gunicorn entry point: `gunicorn 'reminders.web:wsgi_app()'`."""
    from reminders.services import build
    from reminders.settings import load_settings

    svc = build(load_settings())
    svc.check()
    return create_app(svc)
