"""Building a fresh generation in shares: several processes at once, each applying its share of the aggregates.

A rebuild in one process is bound by one core of Python (docs/benchmarks.md). A view whose rows and memory are
each one aggregate's own, folded from that aggregate's events alone (`SqlView.by_aggregate`), can be built by
as many processes as the machine has cores: each reads from the event store only the events of the aggregates
in its share (`select_share`: the buckets, last bytes of their ids, that `plan` gives it), applies them in
order, as a catch-up would, and writes their rows in transactions of its own. Only on PostgreSQL (SQLite has
one writer at a time).

Exactly once, for the build as a whole: a generation being built is read by nobody; each share writes its
batches' rows in transactions of their own (`SqlView.write_share`), and the generation's position is recorded
only when every share has written all its rows up to the same end (`SqlView.write` with `built`); a share that
fails fails the build, whose tables are dropped and built again in one process, which names the event it cannot
apply (`Projections.build`). No event's content crosses between processes: only counts.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import resource
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from eventsourcing.application import Application

from projections.reader import Reader
from projections.runner import MAX_BATCH, Runner, collector_paused
from projections.view import SqlView

K = TypeVar("K")
MIN_EVENTS = 20_000  # Fewer events than this a share: one process builds them sooner than several start.
# A share's memory is read at most this often (seconds): Linux walks the whole address space to tell it, about 3 ms
# for a share of temporal's; after each of its 20 batches, that was 2% of the share's time.
MEMORY_EVERY = 0.5
APPLIED, FINISHED, FAILED = "applied", "finished", "failed"  # What a share reports: (share, what, how many or why).


class ShareFailed(Exception):
    """A share of a build in shares could not be built (its error's type is the message: never an event's content)."""


def usable_cpus() -> int:
    """The CPUs this process may run on (Linux), else the machine's: how many shares a build is split into by
    default (and how many processes a worker far behind shares its first catch-up out to, workers/start.py)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def balanced(weights: Mapping[K, float], groups: int) -> list[list[K]]:
    """The keys in at most `groups` groups of about equal weight: each key, the heaviest first (ties in the order
    given), to the lightest group yet; no group empty."""
    planned: list[list[K]] = [[] for _ in range(groups)]
    totals = [0.0] * groups
    for key in sorted(weights, key=lambda k: -weights[k]):
        lightest = totals.index(min(totals))
        planned[lightest].append(key)
        totals[lightest] += weights[key]
    return [group for group in planned if group]


def build_in_shares(  # noqa: PLR0913
    runner: Runner,
    name: str,
    generation: int | str,
    *,
    end: int,
    shares: int,
    report: Callable[[int], None],
) -> list[float]:
    """Build generation `generation` of projection `name` up to position `end` in at most `shares` processes, each
    with about as many events (`plan`); `report` is called with the number of events each batch applied, in
    whatever share. Returns each share's peak memory (MB, `memory_mb` after a batch, at most every
    `MEMORY_EVERY` seconds, and at its end): as many as there were shares. Raises `ShareFailed` if any fails."""
    # Each share's process is a fork of this one: it starts in milliseconds, where a fresh interpreter takes half a
    # second of CPU to import what a share needs. It touches nothing of this process's but the arguments: it builds
    # its own application, pools and view after the fork (psycopg pools are not fork-safe, nor are threads forked:
    # a lock one of this process's threads held stays held there), and it ends with `os._exit` (multiprocessing's
    # way), so nothing of this process's is closed or flushed by it.
    context = multiprocessing.get_context("fork")
    app = runner.app
    sizes = app.recorder.bucket_sizes(end)  # type: ignore[attr-defined]
    planned = plan(sizes, shares)
    reports = context.Queue()
    children = [
        context.Process(
            target=build_share,
            args=(type(app), dict(app.env), runner.views.env, name, runner.views.classes[name]),
            kwargs={
                "generation": generation,
                "end": end,
                "share": (share, buckets),
                # Positions a batch covers: about MAX_BATCH events of this share's.
                "window": max(MAX_BATCH, MAX_BATCH * end // max(1, sum(sizes[b] for b in buckets))),
                "reports": reports,
            },
            name=f"accord-build-{name}-{share}",
            daemon=True,
        )
        for share, buckets in enumerate(planned)
    ]
    shares = len(children)
    for child in children:
        child.start()
    peaks: list[float] = []
    try:
        running, quiet = set(range(shares)), False
        while running:
            try:
                share, what, value = reports.get(timeout=1.0)
            except queue.Empty:
                # A share that ended well has said so (its last words may still be on their way: wait once more).
                ended = [children[s].exitcode for s in running if children[s].exitcode is not None]
                if any(ended) or (ended and quiet):
                    raise ShareFailed("a share's process ended before it had finished") from None
                quiet = bool(ended)
                continue
            if what == FINISHED:
                running.discard(share)
                peaks.append(value)
            elif what == FAILED:
                raise ShareFailed(f"share {share} of {shares}: {value}")
            else:
                report(value)
    finally:
        for child in children:
            if child.is_alive() and child.exitcode is None:
                child.terminate()
            child.join()
        reports.close()
    return peaks


def plan(sizes: Mapping[int, int], shares: int) -> list[list[int]]:
    """The buckets (`bucket_of`: ids' last bytes) of each of at most `shares` shares, from how many events each
    bucket holds, so that the shares hold about as many events each (`balanced`). A plan of 60 long-lived actions
    splits 30 and 30 where the bytes alone split them as they fall (25 and 35, say: the build waits for the
    larger)."""
    return [sorted(buckets) for buckets in balanced(dict(sorted(sizes.items())), shares)]


def build_share(  # noqa: PLR0913
    app_class: type[Application[Any]],
    app_env: Mapping[str, str],
    views_env: Mapping[str, str],
    name: str,
    view_class: type[SqlView],
    *,
    generation: int | str,
    end: int,
    share: tuple[int, list[int]],
    window: int,
    reports: Any,
) -> None:
    """In a share's own process: apply the events of the share's buckets up to `end` to the generation, batch after
    batch, each batch `window` positions of the store."""
    app = app_class({**app_env, "CREATE_TABLE": "no"})  # type: ignore[call-arg]
    runner = Runner(app, views_env, {name: view_class})
    try:
        view = runner.views.construct(name, generation, reading=False)
        peak, measured = memory_mb(), time.monotonic()
        start = 1
        with collector_paused(), Reader(app, share[1]) as reader:
            while start <= end:
                stop = min(end, start + window - 1)
                events = reader.read(start, window, stop).events  # Its notifications let go at once.
                if stop < end:
                    reader.ahead(stop + 1, window, min(end, stop + window))
                if events is None:
                    raise ValueError("an event could not be decoded")
                if events:
                    view.write_share(events)
                    reports.put((share[0], APPLIED, len(events)))
                    if time.monotonic() - measured >= MEMORY_EVERY:
                        peak, measured = max(peak, memory_mb()), time.monotonic()
                start = stop + 1
        reports.put((share[0], FINISHED, max(peak, memory_mb())))
    except Exception as error:  # The parent builds again in one process, which names the event.
        reports.put((share[0], FAILED, type(error).__name__))  # Its type only: never an event's content.
    finally:
        runner.close()
        app.close()


def memory_mb() -> float:
    """This process's memory (MB): its proportional set size where Linux tells it (the pages it shares with the
    process it was forked from counted in proportion, not once in each), else its peak resident set."""
    try:
        with open("/proc/self/smaps_rollup") as rollup:
            return next(int(line.split()[1]) for line in rollup if line.startswith("Pss:")) / 1024
    except (OSError, StopIteration, ValueError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # In KB (Linux).
