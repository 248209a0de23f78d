"""Liveness and readiness, open to all: /healthz says the process is up, /readyz that its stores answer."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint

from api import get_system
from api.errors import problem

log = logging.getLogger(__name__)
blp = Blueprint("health", __name__)


@blp.get("/healthz")
def healthz() -> Any:
    return {"status": "ok"}


@blp.get("/readyz")
def readyz() -> Any:
    system = get_system()
    try:
        system.app.recorder.max_notification_id()
    except Exception as error:
        log.warning("event store not ready: %s", type(error).__name__)
        return problem(503, "Service Unavailable", "the event store does not answer")
    if system.settings.redis_url:
        from redis import Redis

        try:
            Redis.from_url(system.settings.redis_url, socket_timeout=2).ping()
        except Exception as error:
            log.warning("redis not ready: %s", type(error).__name__)
            return problem(503, "Service Unavailable", "Redis does not answer")
    return {"status": "ready", "position": system.app.recorder.max_notification_id() or 0}
