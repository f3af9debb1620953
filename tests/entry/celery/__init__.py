"""Tests of reminders/entry/celery/: tasks, hand-off, brokers."""
