"""RQ jobs: module-level functions taking only a projection's name (never personal data).

A job drains its projection: it applies everything recorded so far in batches from the tracked
position, so nudges may be lost, duplicated or reordered without changing the result. The worker
process builds its system once (`system()`, after any fork) and every job reuses it, with its
connections and the actions each view keeps in memory warm.
"""

from __future__ import annotations

import functools
import logging
import time

import psycopg
from eventsourcing.persistence import PersistenceError
from rq import Queue, get_current_job

from adapters.queue import pending_key
from service.bootstrap import System, bootstrap
from service.settings import Settings

log = logging.getLogger(__name__)


@functools.cache
def system() -> System:
    """This process's system, from the environment's settings, built on first use and kept for every job."""
    return build(Settings.from_env())


def build(settings: Settings, attempts: int = 20) -> System:
    """Build a worker's system, waiting out a database that is restarting or dropped our connections."""
    for attempt in range(attempts):
        try:
            return bootstrap(settings, in_process=False)
        except (PersistenceError, psycopg.Error) as error:
            log.warning("the store does not answer yet (%s); retrying", type(error).__name__)
            time.sleep(min(0.1 * 2**attempt, 3.0))
    return bootstrap(settings, in_process=False)


def catch_up(projection: str) -> int:
    """Drain everything recorded so far, then end.

    While this runs, its projection's pending mark stays set and saves enqueue nothing more; the mark
    is cleared once the head is reached, then what the saves that found it still set recorded is applied too.
    """
    projections, job = system().projections, get_current_job()

    def clear_mark() -> None:
        if job:
            job.connection.delete(pending_key(Queue(job.origin, connection=job.connection), projection))

    return projections.catch_up(projection, at_head=clear_mark)
