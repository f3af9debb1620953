"""Tests of reminders/messages/: what people receive (the content rules)."""
