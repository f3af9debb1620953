"""Tests of reminders/app/care/: foot problems, review items, escalation, silence."""
