"""Tests of testing/: the fake provider and the segment counter."""
