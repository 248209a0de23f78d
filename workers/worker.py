"""`accord worker`: one RQ worker for the projection queue, with a catch-up at start and on a timer."""

from __future__ import annotations

import gc
import logging
import os
import threading

from eventsourcing.persistence import PersistenceError
from rq import SimpleWorker

from adapters.queue import nudge, projection_queue
from service.settings import Settings
from workers import jobs
from workers.reminders import cron_scheduler, mail_queue_name, run_cron
from workers.start import catch_up_on_start

log = logging.getLogger(__name__)


def run_worker(settings: Settings, burst: bool = False) -> None:
    """`settings` are the environment's (`Settings.from_env()`), as the jobs' `system()` reads them."""
    if not settings.redis_url:
        raise SystemExit("accord worker needs ACCORD_REDIS_URL (without it, the server runs projections itself)")
    system = jobs.system()  # Built now, before the first job, and kept warm for every job.
    gc.freeze()  # What the process holds now (modules, the system) lives as long as it: no collection walks it again.
    queue = projection_queue(settings.redis_url, settings.queue)
    names = system.projections.names
    try:  # Catch up on start, whatever happened while no worker ran (far behind, with helper processes).
        catch_up_on_start(system, os.environ)
    except PersistenceError as error:
        log.warning("catching up on start failed (%s); the jobs will", type(error).__name__)
    nudge(queue, names, force=True)
    stop = threading.Event()

    def tick() -> None:
        # A nudge lost in Redis (or a flushed Redis) only delays a view until the next tick.
        while not stop.wait(settings.catch_up_seconds):
            nudge(queue, names, force=True)

    threading.Thread(target=tick, name="accord-catch-up-timer", daemon=True).start()
    # Reminders and digests: RQ's cron scheduler enqueues them on their own queue, which projections go before.
    mail = projection_queue(settings.redis_url, mail_queue_name(settings.queue))
    cron = cron_scheduler(mail.connection, mail.name)
    if not burst:
        threading.Thread(target=run_cron, args=(cron, stop), name="accord-cron", daemon=True).start()
    try:
        # SimpleWorker runs jobs in this process, sharing its connections: no fork per job.
        SimpleWorker([queue, mail], connection=queue.connection, serializer=queue.serializer).work(
            burst=burst, logging_level="INFO"
        )
    finally:
        stop.set()
        system.close()
