"""Faults, with real PostgreSQL, real Redis and real `accord worker` processes: every view converges.

While updates stream in, workers are SIGKILLed mid-batch, Redis is flushed, the workers' database
connections are dropped, and two workers run at once. After each: every projection catches up,
`verify` finds no difference with a fresh fold, and no update appears twice in any history.
Redis is flushed with FLUSHDB on a database of its own, so other users of the server are spared.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit
from uuid import UUID

import psycopg
import pytest
from redis import Redis

from domain.principals import Principal
from service.bootstrap import System, bootstrap
from service.settings import Settings
from tests.builders import plan_with_actions

ACCORD = str(Path(sys.executable).with_name("accord"))
WORKER_APP_NAME = "accord-fault-worker"
pytestmark = [pytest.mark.postgres, pytest.mark.parametrize("database_url", ["postgres"], indirect=True)]


def redis_url() -> str:
    parts = urlsplit(os.environ.get("ACCORD_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"))
    return urlunsplit((parts.scheme, parts.netloc, "/9", "", ""))


@dataclass
class Cluster:
    settings: Settings
    system: System
    cwd: Path
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    posted: list[tuple[UUID, UUID]] = field(default_factory=list)
    actions: list[tuple[UUID, Principal]] = field(default_factory=list)

    def start_worker(self) -> subprocess.Popen[bytes]:
        env = {
            **os.environ,
            "ACCORD_DATABASE_URL": self.settings.database_url,
            "ACCORD_REDIS_URL": self.settings.redis_url or "",
            "ACCORD_QUEUE": self.settings.queue,
            "ACCORD_CATCH_UP_SECONDS": "1",
            "PGAPPNAME": WORKER_APP_NAME,
        }
        worker = subprocess.Popen(
            [ACCORD, "worker"], env=env, cwd=self.cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        self.workers.append(worker)
        return worker

    def stop_all(self) -> None:
        for worker in self.workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=30)

    def plan(self) -> None:
        """One action led by each agency."""
        self.actions.extend(plan_with_actions(self.system.app).actions)

    def stream(self, updates: int, per_second: float) -> threading.Thread:
        def post() -> None:
            for n in range(updates):
                action_id, editor = self.actions[n % len(self.actions)]
                rag = ("red", "amber", "green")[n % 3]
                written = self.system.app.post_update(editor, action_id, progress=f"update {n}", rag=rag)
                self.posted.append((action_id, written.id))
                time.sleep(1 / per_second)

        thread = threading.Thread(target=post)
        thread.start()
        return thread

    def converge(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            status = self.system.projections.status()
            if all(s["lag_events"] == 0 and s["state"] == "running" for s in status):
                return
            assert time.monotonic() < deadline, f"views did not converge within {timeout}s: {status}"
            time.sleep(0.2)

    def check(self) -> None:
        self.converge()
        projections = self.system.projections
        for name in projections.names:
            assert projections.verify(name) == [], name
        history = projections.view("history")
        for action_id, _ in self.actions:
            ids = [item["id"] for item in history.history(str(action_id)) if item["type"] == "update"]
            assert len(ids) == len(set(ids)), "an update appears twice in a history"
            expected = sorted(str(u) for a, u in self.posted if a == action_id)
            assert sorted(ids) == expected


@pytest.fixture
def cluster(database_url: str, tmp_path: Path) -> Iterator[Cluster]:
    settings = Settings(database_url=database_url, redis_url=redis_url(), queue=f"accord-fault-{uuid.uuid4().hex[:8]}")
    system = bootstrap(settings)
    cluster = Cluster(settings, system, tmp_path)
    cluster.plan()
    try:
        yield cluster
    finally:
        cluster.stop_all()
        system.close()
        Redis.from_url(settings.redis_url or "").flushdb()


def test_workers_killed_mid_batch_again_and_again(cluster: Cluster) -> None:
    cluster.start_worker()
    writer = cluster.stream(updates=200, per_second=100)
    for _ in range(6):
        time.sleep(0.3)
        cluster.workers[-1].send_signal(signal.SIGKILL)
        cluster.start_worker()
    writer.join()
    cluster.check()


def test_redis_flushed_mid_stream(cluster: Cluster) -> None:
    cluster.start_worker()
    writer = cluster.stream(updates=150, per_second=100)
    for _ in range(3):
        time.sleep(0.4)
        Redis.from_url(cluster.settings.redis_url or "").flushdb()
    writer.join()
    cluster.check()


def test_database_connections_dropped_mid_batch(cluster: Cluster) -> None:
    cluster.start_worker()
    writer = cluster.stream(updates=150, per_second=100)
    with psycopg.connect(cluster.settings.database_url.split("?")[0], autocommit=True) as conn:
        for _ in range(4):
            time.sleep(0.3)
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s", (WORKER_APP_NAME,)
            )
    writer.join()
    cluster.check()


def test_two_workers_at_once(cluster: Cluster) -> None:
    cluster.start_worker()
    cluster.start_worker()
    writer = cluster.stream(updates=200, per_second=150)
    writer.join()
    cluster.check()
    assert all(worker.poll() is None for worker in cluster.workers)
