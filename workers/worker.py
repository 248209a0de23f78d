"""`accord worker`: one RQ worker for the projection queue, with a catch-up at start and on a timer."""

from __future__ import annotations

import logging
import threading
import time

import psycopg
from eventsourcing.persistence import PersistenceError
from rq import SimpleWorker

from adapters.queue import nudge, projection_queue
from service.bootstrap import System, bootstrap
from service.settings import Settings
from workers import jobs

log = logging.getLogger(__name__)


def build(settings: Settings, attempts: int = 20) -> System:
    """Build the worker's system, waiting out a database that is restarting or dropped our connections."""
    for attempt in range(attempts):
        try:
            return bootstrap(settings, in_process=False)
        except (PersistenceError, psycopg.Error) as error:
            log.warning("the store does not answer yet (%s); retrying", type(error).__name__)
            time.sleep(min(0.1 * 2**attempt, 3.0))
    return bootstrap(settings, in_process=False)


def run_worker(settings: Settings, burst: bool = False) -> None:
    if not settings.redis_url:
        raise SystemExit("accord worker needs ACCORD_REDIS_URL (without it, the server runs projections itself)")
    system = build(settings)
    jobs.use_system(system)
    queue = projection_queue(settings.redis_url, settings.queue)
    names = system.projections.names
    nudge(queue, names, force=True)  # Catch up on start: whatever happened while no worker ran.
    stop = threading.Event()

    def tick() -> None:
        # A nudge lost in Redis (or a flushed Redis) only delays a view until the next tick.
        while not stop.wait(settings.catch_up_seconds):
            nudge(queue, names, force=True)

    threading.Thread(target=tick, name="accord-catch-up-timer", daemon=True).start()
    try:
        # SimpleWorker runs jobs in this process, sharing its connections: no fork per job.
        SimpleWorker([queue], connection=queue.connection, serializer=queue.serializer).work(
            burst=burst, logging_level="INFO"
        )
    finally:
        stop.set()
        system.close()
