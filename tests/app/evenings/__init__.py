"""Tests of reminders/app/evenings/: dispatch, the nightly and weekly flows, capacity."""
