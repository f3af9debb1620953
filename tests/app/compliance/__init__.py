"""Tests of reminders/app/compliance/: re-confirmation, send windows, disclosures."""
