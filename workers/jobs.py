"""RQ jobs: module-level functions taking only a projection's name (never personal data).

A job catches its projection up from its tracked position in batches, so nudges may be lost,
duplicated or reordered without changing the result.
"""

from __future__ import annotations

import time

from rq import Queue, get_current_job

from adapters.queue import pending_key
from service.bootstrap import System

_system: System | None = None
TURN = 1.0  # Seconds a job may keep catching up a busy projection before it ends.


def use_system(system: System) -> None:
    """The worker process builds its system once, after any fork, and its jobs share it."""
    global _system  # noqa: PLW0603
    _system = system


def catch_up(projection: str) -> int:
    """Apply everything recorded so far, then end (within TURN seconds, so other projections get a turn).

    While this runs, its projection's pending mark stays set and saves enqueue nothing more; the mark
    is cleared as the job ends, then one last catch-up covers the saves that found it still set.
    """
    if _system is None:
        raise RuntimeError("the worker has not built its system; run jobs with `accord worker`")
    projections, job = _system.projections, get_current_job()
    mark = pending_key(Queue(job.origin, connection=job.connection), projection) if job else None
    applied, started = 0, time.monotonic()
    while time.monotonic() - started < TURN:
        done = projections.catch_up(projection)
        applied += done
        if not done:
            break
    if job and mark:
        job.connection.delete(mark)
    return applied + projections.catch_up(projection)
