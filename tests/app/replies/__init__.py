"""Tests of reminders/app/replies/: texts from people and what they do."""
