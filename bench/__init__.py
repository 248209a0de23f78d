"""Benchmarks behind docs/benchmarks.md: `make bench` (or `python -m bench NAME`) prints each figure."""
