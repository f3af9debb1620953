"""Tests of reminders/app/imports/: CSV import, streamed, as a job."""
