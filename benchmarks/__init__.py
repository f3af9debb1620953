"""Benchmarks for the nightly foot-care reminders: `make bench` / `python -m benchmarks`.

Every figure is measured against a private redis-server that the run starts on a free port and
stops at the end, never the shared Redis. Each benchmark module exposes `run(ctx) -> list[Row]`;
`__main__` runs them in order, prints a table and writes BENCHMARKS.md.
"""
