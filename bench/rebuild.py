"""Rebuild throughput and a worker's peak memory over a store of at least 200,000 events (PostgreSQL).

The store is filled quickly by saving each action's many updates together. Then, for each projection,
`accord projections rebuild NAME` runs as its own process (wall time and its peak RSS are measured),
and finally an `accord worker --burst` builds every projection from nothing (its peak RSS too).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid

from redis import Redis

from bench.common import ACCORD, bulk_updates, fresh_schema, plan_with_actions, redis_url, settings, worker_env
from service.bootstrap import bootstrap


def peak_rss_mb(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Run a command; return its wall time (s) and its own peak resident memory (MB)."""
    start = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise RuntimeError(f"{' '.join(command)} exited {process.returncode}")
    return elapsed, usage.ru_maxrss / 1024


def run(events: int = 200_000, actions: int = 2_000) -> dict[str, object]:
    queue = f"accord-bench-{uuid.uuid4().hex[:8]}"
    results: dict[str, object] = {}
    with fresh_schema() as database_url:
        system = bootstrap(settings(database_url), in_process=False)
        made = plan_with_actions(system.app, actions)
        per_action = -(-events // (actions * 3))  # Each update stores three events; round up.
        start = time.perf_counter()
        bulk_updates(system.app, made, per_action)
        total = system.app.recorder.max_notification_id() or 0
        results["events"] = total
        results["load_seconds"] = round(time.perf_counter() - start, 1)
        env = worker_env(database_url, queue)
        for name in system.projections.names:
            seconds, rss = peak_rss_mb([ACCORD, "projections", "rebuild", name], env)
            results[f"rebuild {name}"] = {
                "seconds": round(seconds, 1),
                "events_per_s": round(total / seconds),
                "peak_rss_mb": round(rss),
            }
        system.close()
    with fresh_schema() as database_url:
        system = bootstrap(settings(database_url), in_process=False)
        bulk_updates(system.app, plan_with_actions(system.app, actions), per_action)
        total = system.app.recorder.max_notification_id() or 0
        system.close()
        env = worker_env(database_url, queue)
        seconds, rss = peak_rss_mb([ACCORD, "worker", "--burst"], env)
        results["worker from empty"] = {
            "events": total,
            "seconds": round(seconds, 1),
            "events_per_s_all_projections": round(total / seconds),
            "peak_rss_mb": round(rss),
        }
        Redis.from_url(redis_url()).flushdb()
    print(results, file=sys.stderr)
    return results
