"""Tests of reminders/app/sending/: the one send path, pacing, lost answers."""
