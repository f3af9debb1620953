"""Tests of reminders/app/records/: stats, analytics, reports, exports."""
