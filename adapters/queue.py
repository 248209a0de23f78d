"""The projection queue: the API nudges it after each save; `accord worker` processes drain it."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from redis import Redis
from rq import Queue
from rq.serializers import JSONSerializer

log = logging.getLogger(__name__)


def projection_queue(redis_url: str, name: str) -> Queue:
    return Queue(name, connection=Redis.from_url(redis_url), serializer=JSONSerializer)


PENDING_TTL = 30  # Seconds a pending mark lives, should its job be lost with it.
# Seconds a finished job (its projection's name and the count it applied) is kept: RQ expires a kept job in one
# command, where discarding it at once (0) deletes it from every registry, a fifth of a job's cost in RQ.
RESULT_TTL = 10


def pending_key(queue: Queue, projection: str) -> str:
    return f"accord:{queue.name}:pending:{projection}"


def nudge(queue: Queue, projections: Iterable[str], *, force: bool = False) -> None:
    """Ask the workers to catch up, at most one waiting job per projection.

    A job clears its projection's pending mark when it starts, then applies everything recorded
    by then; a save that finds the mark set knows a job yet to start will see its events. A lost
    mark or job (or a flushed Redis) only delays a view until the worker's periodic catch-up, which
    nudges with `force`.
    """
    try:
        names = list(projections)
        with queue.connection.pipeline(transaction=False) as pipe:  # One round trip for all the marks.
            for name in names:
                pipe.set(pending_key(queue, name), 1, nx=True, ex=PENDING_TTL)
            marked = pipe.execute()
        jobs = [
            Queue.prepare_data("workers.jobs.catch_up", (name,), result_ttl=RESULT_TTL, failure_ttl=86400)
            for name, newly in zip(names, marked, strict=True)
            if newly or force
        ]
        if jobs:
            queue.enqueue_many(jobs)  # One round trip for all of them.
    except Exception as error:
        log.warning("could not nudge the projection workers: %s", type(error).__name__)
