"""Tests of reminders/entry/: the ways in."""
