"""Write-to-visible lag on PostgreSQL with RQ workers, at a sustained update rate.

A writer posts updates at RATE per second through the service (as the API does); a watcher polls the
projections' positions every few milliseconds. Lag is the time from a write's return to the moment
every projection had applied it.
"""

from __future__ import annotations

import threading
import time
import uuid

import psycopg
from redis import Redis

from bench.common import fresh_schema, percentile, plan_with_actions, redis_url, settings, start_workers
from service.bootstrap import bootstrap


def run(rate: float = 100.0, seconds: float = 30.0, workers: int = 2) -> dict[str, float]:
    queue = f"accord-bench-{uuid.uuid4().hex[:8]}"
    with fresh_schema() as database_url:
        system = bootstrap(settings(database_url, redis_url=redis_url(), queue=queue))
        actions = plan_with_actions(system.app, 50)
        processes = start_workers(database_url, queue, workers)
        try:
            system.projections.wait(system.app.recorder.max_notification_id() or 0, timeout=60)
            written: list[tuple[int, float]] = []
            visible: dict[int, float] = {}
            done = threading.Event()

            views = [system.projections.view(n) for n in system.projections.names]
            reached_sql = (
                "SELECT min(p) AS reached FROM ("
                + " UNION ALL ".join(
                    f'SELECT max(notification_id) AS p FROM "{v.datastore.schema}".{v.tracking_table_name}'
                    for v in views
                )
                + ") AS positions"
            )

            def watch() -> None:
                # One cheap query every few milliseconds: the watcher must not load the machine it measures.
                seen = 0
                with psycopg.connect(database_url.split("?")[0], autocommit=True) as conn:
                    while not done.is_set() or len(visible) < len(written):
                        reached = conn.execute(reached_sql).fetchone()[0] or 0
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
            lags = [(visible[p] - t) * 1000 for p, t in written if p in visible]
            return {
                "updates": len(written),
                "achieved_rate": len(written) / elapsed,
                "p50_ms": percentile(lags, 50),
                "p99_ms": percentile(lags, 99),
                "max_ms": max(lags),
                "unseen": len(written) - len(lags),
            }
        finally:
            for process in processes:
                process.terminate()
                process.wait(timeout=30)
            system.close()
            Redis.from_url(redis_url()).flushdb()
