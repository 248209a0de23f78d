"""Write-to-visible lag on PostgreSQL with RQ workers, at a sustained update rate: the median of three runs.

A writer posts updates at RATE per second through the service (as the API does); a watcher polls the
projections' positions every few milliseconds with one query. Lag is the time from a write's return to
the moment every projection had applied it. A run whose writer falls short of the target rate (by more
than 2%) does not measure what it claims: the bench fails loudly rather than report it.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import threading
import time
import uuid
from typing import Any

import psycopg
from redis import Redis

from bench.common import fresh_schema, percentile, plan_with_actions, redis_url, settings, spread, start_workers
from service.bootstrap import bootstrap

SHORTFALL = 0.98  # A run must achieve at least this fraction of the target rate.
STRICT = os.environ.get("ACCORD_BENCH_LAG_STRICT", "yes") != "no"  # `no`: report a short run instead of failing.


class RateNotReached(RuntimeError):
    """The writer could not post at the target rate: the machine is too loaded for this measurement."""


def run(rate: float = 100.0, seconds: float = 30.0, workers: int = 2, runs: int = 3) -> dict[str, Any]:
    results = [once(rate, seconds, workers) for _ in range(runs)]
    summary: dict[str, Any] = {"rate": rate, "seconds": seconds, "workers": workers, "runs": results}
    for key in ("achieved_rate", "p50_ms", "p99_ms", "max_ms", "worker_cpu_ms_per_update"):
        values = [r[key] for r in results]
        summary[key] = {"median": round(statistics.median(values), 1), **spread(values)}
    summary["unseen"] = sum(r["unseen"] for r in results)
    return summary


def once(rate: float, seconds: float, workers: int) -> dict[str, Any]:
    queue = f"accord-bench-{uuid.uuid4().hex[:8]}"
    with fresh_schema() as database_url:
        system = bootstrap(settings(database_url, redis_url=redis_url(), queue=queue))
        actions = plan_with_actions(system.app, 50)
        processes = start_workers(database_url, queue, workers)
        try:
            if not system.projections.wait(system.app.recorder.max_notification_id() or 0, timeout=60):
                raise RuntimeError("the workers did not catch up with the set-up in 60 s")
            written: list[tuple[int, float]] = []
            visible: dict[int, float] = {}
            done = threading.Event()
            reached_sql = (
                "SELECT min(p) AS reached FROM ("
                + " UNION ALL ".join(
                    f"SELECT max(notification_id) AS p FROM {tracking_table(system.projections.view(name))}"
                    for name in system.projections.names
                )
                + ") AS positions"
            )

            def watch() -> None:
                # One cheap query every few milliseconds: the watcher must not load the machine it measures.
                seen = 0
                with psycopg.connect(database_url.split("?")[0], autocommit=True) as conn:
                    while not done.is_set() or len(visible) < len(written):
                        reached = conn.execute(reached_sql).fetchone()[0] or 0  # type: ignore[index]
                        at = time.perf_counter()
                        while seen < len(written) and written[seen][0] <= reached:
                            visible[written[seen][0]] = at
                            seen += 1
                        time.sleep(0.005)

            watcher = threading.Thread(target=watch)
            watcher.start()
            start, n = time.perf_counter(), 0
            while time.perf_counter() - start < seconds:
                action_id, editor = actions[n % len(actions)]
                w = system.app.post_update(editor, action_id, progress=f"bench update {n}", rag="amber")
                written.append((w.position, time.perf_counter()))
                n += 1
                time.sleep(max(0.0, start + n / rate - time.perf_counter()))
            elapsed = time.perf_counter() - start
            done.set()
            watcher.join(timeout=120)
            achieved = len(written) / elapsed
            if STRICT and achieved < SHORTFALL * rate:
                raise RateNotReached(f"posted {achieved:.1f} updates/s, short of the target {rate:.0f}/s")
            lags = [(visible[p] - t) * 1000 for p, t in written if p in visible]
            cpu = stop_workers(processes)
            return {
                "worker_cpu_ms_per_update": round(cpu * 1000 / len(written), 2),
                "updates": len(written),
                "achieved_rate": round(achieved, 1),
                "p50_ms": round(percentile(lags, 50), 1),
                "p99_ms": round(percentile(lags, 99), 1),
                "max_ms": round(max(lags), 1),
                "unseen": len(written) - len(lags),
            }
        finally:
            stop_workers(processes)
            system.close()
            Redis.from_url(redis_url()).flushdb()


def stop_workers(processes: list[subprocess.Popen[bytes]]) -> float:
    """Stop the workers; return the CPU seconds they used (user + system), a figure load does not inflate."""
    cpu = 0.0
    for process in processes:
        if process.returncode is not None:
            continue
        process.terminate()
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        cpu += usage.ru_utime + usage.ru_stime
    return cpu


def tracking_table(view: Any) -> str:
    """The view's tracking table (the library's, named by Accord's allow-list), schema-qualified."""
    return view.db.dialect.table(view.tracking.tracking_table_name)  # type: ignore[no-any-return]
