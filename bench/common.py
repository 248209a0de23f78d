"""What the benchmarks share: a throwaway PostgreSQL schema, a bulk loader, worker processes, percentiles."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from contextlib import AbstractContextManager
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit
from uuid import UUID

from domain.action import Action
from domain.principals import Principal
from service.app import Accord
from service.settings import Settings
from tests import builders

ACCORD = str(Path(sys.executable).with_name("accord"))
COORDINATOR = Principal("bench", "Bench coordinator", "lscb", "coordinator")


def postgres_url() -> str:
    return os.environ.get("ACCORD_TEST_POSTGRES_URL", "postgresql://root@127.0.0.1:5432/test")


def redis_url() -> str:
    parts = urlsplit(os.environ.get("ACCORD_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"))
    return urlunsplit((parts.scheme, parts.netloc, "/10", "", ""))


def fresh_schema() -> AbstractContextManager[str]:
    """A database URL for an empty schema, dropped afterwards."""
    return builders.fresh_schema(postgres_url(), prefix="bench_")


def settings(database_url: str, **kwargs: object) -> Settings:
    return Settings(database_url=database_url, load_demo=False, **kwargs)  # type: ignore[arg-type]


def plan_with_actions(app: Accord, actions: int) -> list[tuple[UUID, Principal]]:
    """`actions` actions led by the five agencies in turn, started 400 days ago, due in 30: each with its editor."""
    today = app.today()
    return builders.plan_with_actions(
        app,
        actions,
        start=lambda _: today - timedelta(days=400),
        due=lambda _: today + timedelta(days=30),
        coordinator=COORDINATOR,
    ).actions


def bulk_updates(app: Accord, actions: list[tuple[UUID, Principal]], updates_per_action: int) -> int:
    """Post many updates quickly: each action's updates are saved together (events stay one per fact)."""
    today = app.today()
    written = 0
    for n, (action_id, editor) in enumerate(actions):
        action: Action = app.repository.get(action_id)
        for k in range(updates_per_action):
            action.post_update(
                actor=editor,
                update_id=str(uuid.uuid4()),
                effective_date=today - timedelta(days=updates_per_action - k),
                today=today,
                progress=f"progress {k} on action {n}",
                rag=("red", "amber", "green")[k % 3],
                status="in_progress" if k else None,
            )
        recordings = app.save(action)
        written += len(recordings)
    return written


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


def spread(values: list[float], digits: int = 1) -> dict[str, float]:
    """The range of repeated measurements, reported beside their median."""
    return {"min": round(min(values), digits), "max": round(max(values), digits)}


def worker_env(database_url: str, queue: str) -> dict[str, str]:
    return {
        **os.environ,
        "ACCORD_DATABASE_URL": database_url,
        "ACCORD_REDIS_URL": redis_url(),
        "ACCORD_QUEUE": queue,
        "ACCORD_CATCH_UP_SECONDS": "1",
    }


def start_workers(database_url: str, queue: str, count: int) -> list[subprocess.Popen[bytes]]:
    return [
        subprocess.Popen(
            [ACCORD, "worker"],
            env=worker_env(database_url, queue),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(count)
    ]
