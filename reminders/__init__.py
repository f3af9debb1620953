"""Nightly foot-care reminders: the domain core (preferences, schedule, content, keywords)
and thin adapters for Redis, Celery, Twilio, SMTP and Flask."""
