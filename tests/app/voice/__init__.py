"""Tests of reminders/app/voice/: the evening call."""
