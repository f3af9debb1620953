"""Tests of reminders/storage/: Redis structures, clients, replicas, Sentinel."""
