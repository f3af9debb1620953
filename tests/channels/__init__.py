"""Tests of reminders/channels/: the transports."""
