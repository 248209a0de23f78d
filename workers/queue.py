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


def nudge(queue: Queue, projections: Iterable[str]) -> None:
    """Ask the workers to catch up; if Redis is away the periodic catch-up will do it later."""
    try:
        for name in projections:
            queue.enqueue("workers.jobs.catch_up", name, result_ttl=0, failure_ttl=86400)
    except Exception as error:
        log.warning("could not nudge the projection workers: %s", type(error).__name__)
