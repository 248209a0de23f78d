"""Liveness, readiness and metrics, open to all: no personal data, only positions and counts."""

from __future__ import annotations

import logging
import math
from typing import Any

from flask import Blueprint, Response

from api import get_system
from api.errors import problem

log = logging.getLogger(__name__)
blp = Blueprint("health", __name__)


@blp.get("/healthz")
def healthz() -> Any:
    return {"status": "ok"}


@blp.get("/readyz")
def readyz() -> Any:
    """Ready when the event store (and Redis, when configured) answer and no projection is stalled."""
    system = get_system()
    try:
        status = system.projections.status()
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
    stalled = [s["name"] for s in status if stalled_reason(s, system.settings.stall_seconds)]
    if stalled:
        reasons = "; ".join(
            f"{s['name']}: {stalled_reason(s, system.settings.stall_seconds)}" for s in status if s["name"] in stalled
        )
        return problem(503, "Service Unavailable", f"projection stalled: {reasons}")
    return {"status": "ready", "position": status[0]["head"] if status else 0}


def stalled_reason(s: dict[str, Any], stall_seconds: float) -> str | None:
    if s["state"] != "running":
        return f"stopped at position {s['error_position']} ({s['error']})"
    if s["lag_events"] and (math.isnan(s["lag_seconds"]) or s["lag_seconds"] > stall_seconds):
        return f"{s['lag_events']} events behind, the oldest waiting {s['lag_seconds']:.0f}s"
    return None


METRICS = (
    ("accord_projection_position", "gauge", "Last event-store position the projection applied.", "position"),
    ("accord_projection_lag_events", "gauge", "Events recorded but not yet applied.", "lag_events"),
    ("accord_projection_lag_seconds", "gauge", "Age of the oldest event not yet applied.", "lag_seconds"),
    ("accord_projection_events_processed_total", "counter", "Events applied by this generation.", "processed"),
    ("accord_projection_failures_total", "counter", "Failed attempts to apply an event.", "failures"),
    ("accord_projection_stopped", "gauge", "1 when a poison event has stopped the projection.", "stopped"),
)


@blp.get("/metrics")
def metrics() -> Response:
    """Prometheus text format."""
    status = get_system().projections.status()
    lines = []
    for metric, kind, help_text, key in METRICS:
        lines += [f"# HELP {metric} {help_text}", f"# TYPE {metric} {kind}"]
        for s in status:
            value = int(s["state"] != "running") if key == "stopped" else s[key]
            lines.append(f'{metric}{{projection="{s["name"]}"}} {value}')
    head = status[0]["head"] if status else 0
    lines += [
        "# HELP accord_event_store_position Position of the last recorded event.",
        "# TYPE accord_event_store_position gauge",
        f"accord_event_store_position {head}",
    ]
    lines += outbox_metrics()
    return Response("\n".join(lines) + "\n", mimetype="text/plain; version=0.0.4")


def outbox_metrics() -> list[str]:
    """Emails waiting in the outbox (not yet sent) and, of those, failed at least once (the mail server is down
    or refused them); counts only."""
    from flask import current_app

    from service.outbox import Outbox

    if "accord.outbox" not in current_app.extensions:  # Built once: it creates its table if missing.
        system = get_system()
        current_app.extensions["accord.outbox"] = Outbox(system.app.factory, clock=system.app.clock)
    counts = current_app.extensions["accord.outbox"].counts()
    return [
        "# HELP accord_outbox_waiting Emails recorded but not yet sent.",
        "# TYPE accord_outbox_waiting gauge",
        f"accord_outbox_waiting {counts['waiting']}",
        "# HELP accord_outbox_failed Emails not yet sent after at least one failed attempt (retried with backoff).",
        "# TYPE accord_outbox_failed gauge",
        f"accord_outbox_failed {counts['failed']}",
    ]
