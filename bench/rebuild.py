"""Rebuild throughput against the library's own read+decode, per-event cost by history length, worker memory.

On PostgreSQL, three stores filled quickly (each action's updates saved together):
- 2,000 actions with 34 updates each (about 200,000 events): each projection is rebuilt three times by
  a child process (`python -m bench.rebuild NAME`, timing `Projections.rebuild` itself, so process
  start-up is not counted; its peak memory is its own peak RSS plus, where the view is built in shares by
  several processes at once (projections/shares.py), each share's peak proportional set size, so that the
  pages a share shares with the process it was forked from count once); just before each rebuild, the library's own
  read+decode of the same events (`select_notifications` + `mapper.to_domain_event`, batches of 5,000)
  is timed in this process, so each rebuild has a ratio measured under the same load. Then, three times,
  every projection is moved to a fresh empty generation and one `accord worker --burst` builds all four
  from nothing (wall time and peak RSS).
- 1,600 actions with 10 updates (30 events each) and 60 actions with 267 updates (800 events each), about
  48,000 events each: each projection rebuilt three times on each, for the rate per event by history length, the
  two stores in turn (30, 800, 30, 800...), so that a machine slowing down or speeding up from one minute to the
  next weighs on both alike; and for each projection, 800 against 30: the medians' quotient (above 1, faster
  per event with the longer histories).
Every figure is the median of three runs, with the range.
"""

from __future__ import annotations

import cProfile
import json
import os
import pstats
import resource
import statistics
import subprocess
import sys
import time
import uuid
from contextlib import ExitStack
from typing import Any

from redis import Redis

from bench.common import ACCORD, bulk_updates, fresh_schema, plan_with_actions, redis_url, settings, spread, worker_env
from projections.runner import Progress, collector_paused
from service.bootstrap import bootstrap
from service.settings import Settings

READ_BATCH = 5000


def run(events: int = 200_000, actions: int = 2_000, runs: int = 3) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with fresh_schema() as database_url:
        system = bootstrap(settings(database_url), in_process=False)
        made = plan_with_actions(system.app, actions)
        start = time.perf_counter()
        bulk_updates(system.app, made, -(-events // (actions * 3)))  # Each update stores three events; round up.
        results["events"] = total = system.app.recorder.max_notification_id() or 0
        results["load_seconds"] = round(time.perf_counter() - start, 1)
        env = worker_env(database_url, f"accord-bench-{uuid.uuid4().hex[:8]}")
        for name in system.projections.names:
            results[f"rebuild {name}"] = rebuilds([(system, env, total)], name, runs)[0]
        results["worker from empty"] = from_empty(system, env, total, runs)
        system.close()
    with ExitStack() as stack:
        stores = {}
        for per_action, count in ((30, 1_600), (800, 60)):
            database_url = stack.enter_context(fresh_schema())
            system = bootstrap(settings(database_url), in_process=False)
            stack.callback(system.close)
            bulk_updates(system.app, plan_with_actions(system.app, count), per_action // 3)
            total = system.app.recorder.max_notification_id() or 0
            stores[per_action] = (system, worker_env(database_url, "unused"), total)
        for name in system.projections.names:
            for per_action, figures in zip(stores, rebuilds(list(stores.values()), name, runs), strict=True):
                results[f"{per_action} events/action: rebuild {name}"] = {"events": stores[per_action][2], **figures}
            short, long = (results[f"{n} events/action: rebuild {name}"] for n in stores)
            results[f"800 against 30 events/action: rebuild {name}"] = {  # Above 1: faster with longer histories.
                "events_per_s": round(long["events_per_s"]["median"] / short["events_per_s"]["median"], 2),
                "ratio_to_read_decode": round(
                    long["ratio_to_read_decode"]["median"] / short["ratio_to_read_decode"]["median"], 2
                ),
            }
    print(json.dumps(results, indent=1), file=sys.stderr)
    return results


def rebuilds(stores: list[tuple[Any, dict[str, str], int]], name: str, runs: int) -> list[dict[str, Any]]:
    """Rebuild projection `name` `runs` times on each store ((system, its environment, its events)), the stores in
    turn, each rebuild just after the library's read+decode of the same store; the figures of each store."""
    measured: list[dict[str, list[float]]] = [{"rates": [], "ratios": [], "rss": [], "shares": []} for _ in stores]
    for _ in range(runs):
        for (system, env, total), figures in zip(stores, measured, strict=True):
            library = read_decode_rate(system.app)
            built_in, peak, seconds = child([sys.executable, "-m", "bench.rebuild", name], env)[0].split()
            figures["rates"].append(total / float(seconds))
            figures["ratios"].append(total / float(seconds) / library)
            figures["rss"].append(float(peak))
            figures["shares"].append(int(built_in))
    return [
        {
            "events_per_s": {"median": round(statistics.median(f["rates"])), **spread(f["rates"], 0)},
            "ratio_to_read_decode": {"median": round(statistics.median(f["ratios"]), 2), **spread(f["ratios"], 2)},
            "peak_rss_mb": round(max(f["rss"])),  # Of all the rebuild's processes together.
            "processes": sorted({int(n) for n in f["shares"]}),  # How many built the view at once (1: alone).
        }
        for f in measured
    ]


def from_empty(system: Any, env: dict[str, str], total: int, runs: int) -> dict[str, Any]:
    seconds, rss = [], []
    for _ in range(runs):
        for name in system.projections.names:  # A fresh, empty generation of every projection.
            system.projections.registry.set(name, generation=system.projections.registry.get(name)["generation"] + 1)
        took, peak = timed([ACCORD, "worker", "--burst"], env)
        seconds.append(took)
        rss.append(peak)
        Redis.from_url(redis_url()).flushdb()
    return {
        "events": total,
        "seconds": {"median": round(statistics.median(seconds), 1), **spread(seconds)},
        "events_per_s_all_projections": round(total / statistics.median(seconds)),
        "peak_rss_mb": round(max(rss)),
    }


def read_decode_rate(app: Any) -> float:
    """Events per second the library reads and decodes from the store (what any projection must do), with the
    garbage collector paused as a rebuild pauses it, so that the ratio does not flatter the rebuild."""
    with collector_paused():
        start, position, count = time.perf_counter(), 0, 0
        while notifications := app.recorder.select_notifications(start=position + 1, limit=READ_BATCH):
            for notification in notifications:
                app.mapper.to_domain_event(notification)
            count += len(notifications)
            position = notifications[-1].id
        return count / (time.perf_counter() - start)


def child(command: list[str], env: dict[str, str]) -> tuple[str, float, float]:
    """Run a command; return the last line it printed, its wall time (s) and its peak resident memory (MB: the
    largest of it and its children, as `wait4` gives it)."""
    start = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status):
        raise RuntimeError(f"{' '.join(command)} failed")
    lines = output.decode().strip().splitlines()
    return (lines[-1] if lines else ""), elapsed, usage.ru_maxrss / 1024


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Run a command: its wall time (s) and peak resident memory (MB)."""
    _, elapsed, peak = child(command, env)
    return elapsed, peak


def profile(actions: int = 300, updates: int = 50) -> dict[str, Any]:
    """Where a rebuild's time goes, per projection, under cProfile: shares of read (`select_notifications`),
    decode (`to_domain_event`), fold (the events' `mutate`: the aggregate's own event methods), SQL (psycopg
    calls made by the view's batch, and its position and commit) and the rest (dispatch, rows, buffers); each
    rebuild in this one process (cProfile sees no other), where a real one may build in shares."""
    results: dict[str, Any] = {}
    with fresh_schema() as database_url:
        system = bootstrap(settings(database_url, build_processes=1), in_process=False)
        bulk_updates(system.app, plan_with_actions(system.app, actions), updates)
        results["events"] = system.app.recorder.max_notification_id() or 0
        for name in system.projections.names:
            profiler = cProfile.Profile()
            profiler.enable()
            system.projections.rebuild(name)
            profiler.disable()
            results[name] = shares(pstats.Stats(profiler))
        system.close()
    return results


def shares(stats: pstats.Stats) -> dict[str, float]:
    table = stats.stats  # type: ignore[attr-defined]

    def cumulative(file_end: str, function: str) -> float:
        return sum(v[3] for (f, _, fn), v in table.items() if f.endswith(file_end) and fn == function)

    def called_from(file_end: str, functions: tuple[str, ...], callers_in: tuple[str, ...]) -> float:
        total = 0.0
        for (f, _, fn), (_, _, _, _, callers) in table.items():
            if f.endswith(file_end) and fn in functions:
                total += sum(c[3] for (cf, _, _), c in callers.items() if any(p in cf for p in callers_in))
        return total

    whole = cumulative("projections/operations.py", "rebuild")
    write = cumulative("projections/view.py", "write")
    batch = cumulative("projections/view.py", "apply_batch")
    sql_in_batch = called_from("psycopg/cursor.py", ("execute", "executemany"), ("projections/", "adapters/"))
    sql_in_batch += cumulative("psycopg/cursor.py", "copy") + cumulative("psycopg/copy.py", "write_row")  # COPY.
    parts = {
        "read": cumulative("eventsourcing/postgres.py", "select_notifications"),
        "decode": cumulative("eventsourcing/persistence.py", "to_domain_event"),
        "fold": cumulative("eventsourcing/domain.py", "mutate") + cumulative("projections/segments.py", "revise"),
        "sql": sql_in_batch + (write - batch),
    }
    parts["rest"] = whole - sum(parts.values())
    return {key: round(100 * value / whole, 1) for key, value in parts.items()} | {"seconds": round(whole, 2)}


def rebuild_here(name: str) -> None:
    """The child: rebuild one projection of the store the environment names; print how many processes built it,
    the peak memory of them all (MB: this process's own peak RSS and each share's peak PSS) and the seconds it
    took."""
    system = bootstrap(Settings.from_env(), in_process=False)
    progress = Progress()
    start = time.perf_counter()
    system.projections.rebuild(name, progress)
    seconds = time.perf_counter() - start
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux.
    print(progress.shares, round(own + sum(progress.peak_mb)), seconds)
    system.close()


if __name__ == "__main__":
    if sys.argv[1] == "--profile":  # `python -m bench.rebuild --profile`: where a rebuild's time goes.
        print(json.dumps(profile()))
    else:
        rebuild_here(sys.argv[1])
