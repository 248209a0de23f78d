"""RQ jobs for reminders and digests, and RQ's cron scheduler that enqueues them.

The jobs take no arguments, so nothing personal passes through Redis: each reads the read models and the outbox.
`daily` runs every hour and does the day's work once, at or after ACCORD_REMIND_AT (07:00) in the deployment's
time zone, whichever worker gets there first (a per-day claim in Redis); `deliver` retries what waits in the outbox
every 30 seconds. Sending twice is impossible either way: the outbox records each message once.
"""

from __future__ import annotations

import logging
import threading
from datetime import time
from typing import Any

from redis import Redis
from rq import Queue, cron_job_registry, get_current_job
from rq.cron import CronJob, CronScheduler
from rq.defaults import DEFAULT_CRON_JOB_HISTORY_LIMIT, DEFAULT_CRON_JOB_HISTORY_TTL
from rq.serializers import JSONSerializer

from service.reminders import reminders_for
from workers import jobs

log = logging.getLogger(__name__)
HOURLY = "0 * * * *"
DELIVER_SECONDS = 30  # With the outbox's first backoff of 30 s, a first retry comes within a minute.
DAY_CLAIM_SECONDS = 3 * 24 * 3600


def mail_queue_name(projection_queue: str) -> str:
    return f"{projection_queue}-mail"


def daily() -> dict[str, Any]:
    """The day's reminders and digests, once per day from ACCORD_REMIND_AT; a no-op at other hours."""
    system = jobs.system()
    settings = system.settings
    local = system.app.clock().astimezone(system.app.zone)
    if local.time() < time.fromisoformat(settings.remind_at):
        return {"ran": False, "reason": f"before {settings.remind_at}"}
    job = get_current_job()
    claim = f"accord:{settings.queue}:reminders:{local.date().isoformat()}"
    if job and not job.connection.set(claim, 1, nx=True, ex=DAY_CLAIM_SECONDS):
        return {"ran": False, "reason": "already ran today"}
    try:
        result = reminders_for(system).send(local.date())
    except BaseException:
        if job:
            job.connection.delete(claim)  # Let the next hour's run try the day again.
        raise
    log.info("reminders for %s: %s recorded, %s sent, %s failed", local.date(), *map(result.get, RESULT_KEYS))
    return {"ran": True, **result}


RESULT_KEYS = ("recorded", "sent", "failed")


def deliver() -> int:
    """Send what waits in the outbox and is due (retries after the mail server was down)."""
    return reminders_for(jobs.system()).deliver().sent


class JsonCronJob(CronJob):
    """rq's CronJob enqueues with the default (pickle) serializer whatever the scheduler's; ours are JSON."""

    def enqueue(self, connection: Redis) -> Any:
        assert self.func is not None
        queue = Queue(self.queue_name, connection=connection, serializer=JSONSerializer)
        with connection.pipeline() as pipeline:
            job = queue.enqueue(self.func, *self.args, **self.kwargs, **self.job_options, pipeline=pipeline)
            pipeline.zadd(self.job_history_key, {job.id: job.enqueued_at.timestamp()})
            pipeline.zremrangebyrank(self.job_history_key, 0, -(DEFAULT_CRON_JOB_HISTORY_LIMIT + 1))
            pipeline.expire(self.job_history_key, DEFAULT_CRON_JOB_HISTORY_TTL)
            cron_job_registry.add(self.name, pipeline, enqueue_timestamp=job.enqueued_at.timestamp())
            pipeline.execute()
        return job


def cron_scheduler(connection: Redis, queue_name: str) -> CronScheduler:
    """RQ's cron scheduler with the daily run (hourly, gated as above) and the outbox's retries. Each cron job is
    named after its queue, so that RQ's history of the jobs it spawned (keyed by that name) is this deployment's
    alone where several share a Redis, and goes with the queue's other keys."""
    scheduler = CronScheduler(connection=connection)
    scheduler._cron_jobs += [  # register() would build plain CronJobs; these are the same with JSON.
        JsonCronJob(
            queue_name, func=daily, cron=HOURLY, result_ttl=86400, failure_ttl=7 * 86400, name=f"{queue_name}:daily"
        ),
        JsonCronJob(
            queue_name,
            func=deliver,
            interval=DELIVER_SECONDS,
            result_ttl=0,
            failure_ttl=86400,
            name=f"{queue_name}:deliver",
        ),
    ]
    return scheduler


def run_cron(scheduler: CronScheduler, stop: threading.Event) -> None:
    """CronScheduler.start() without its signal handlers, which only the main thread may install."""
    scheduler.register_birth()
    try:
        while not stop.is_set():
            try:
                if scheduler.enqueue_jobs():
                    scheduler.save()
                scheduler.heartbeat()
            except Exception as error:  # Redis away: try again at the next tick.
                log.warning("cron scheduler: %s", type(error).__name__)
            stop.wait(max(scheduler.calculate_sleep_interval(), 1.0))
    finally:
        try:
            scheduler.register_death()
        except Exception as error:
            log.warning("cron scheduler could not unregister: %s", type(error).__name__)
