"""Tests of reminders/entry/web/: webhooks, email pages, metrics."""
