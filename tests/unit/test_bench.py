"""`make bench` runs every benchmark by name: each must at least import (a merge once broke one silently)."""

from __future__ import annotations

from bench.__main__ import BENCHES


def test_every_benchmark_make_bench_names_is_importable_and_runnable() -> None:
    assert set(BENCHES) == {"lag", "rebuild", "timetravel", "writes", "imports", "pages", "reports"}
    assert all(callable(run) for run in BENCHES.values())
