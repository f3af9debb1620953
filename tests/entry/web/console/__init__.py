"""Tests of reminders/entry/web/console/: the console's pages."""
