"""Tests of reminders/domain/: the pure rules."""
