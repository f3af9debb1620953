"""Tests of reminders/entry/cli/: the command line."""
