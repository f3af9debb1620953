"""Tests of reminders/app/people/: enrolment, consents, caregivers, forget."""
