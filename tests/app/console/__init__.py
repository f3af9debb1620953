"""Tests of reminders/app/console/: operators' accounts and logins."""
