"""Tests of reminders/app/, one directory per package."""
