"""With ACCORD_REDIS_URL set, the API only writes and nudges; real `accord worker` processes build the views."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from redis import Redis

from adapters.queue import nudge, pending_key, projection_queue
from api import create_app
from service.bootstrap import bootstrap
from service.settings import Settings
from tests.builders import own_queue, plan_with_actions
from workers import start

ACCORD = str(Path(sys.executable).with_name("accord"))
pytestmark = [pytest.mark.postgres, pytest.mark.parametrize("database_url", ["postgres"], indirect=True)]


@pytest.fixture
def redis_url() -> str:
    return os.environ.get("ACCORD_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def queue_settings(database_url: str, redis_url: str) -> Iterator[Settings]:
    with own_queue(redis_url) as queue:
        yield Settings(database_url=database_url, redis_url=redis_url, queue=queue)


def worker_env(settings: Settings) -> dict[str, str]:
    return {
        "ACCORD_DATABASE_URL": settings.database_url,
        "ACCORD_REDIS_URL": settings.redis_url or "",
        "ACCORD_QUEUE": settings.queue,
    }


def start_worker(settings: Settings, tmp_path: Path) -> subprocess.Popen[str]:
    env = {**os.environ, **worker_env(settings)}
    return subprocess.Popen([ACCORD, "worker"], env=env, cwd=tmp_path, stderr=subprocess.PIPE, text=True)


def eventually(check: Callable[[], Any], timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (result := check()):
        assert time.monotonic() < deadline, "the view did not catch up"
        time.sleep(0.1)
    return result


def test_worker_builds_the_views_the_api_reads(queue_settings: Settings, tmp_path: Path) -> None:
    system = bootstrap(queue_settings)
    client = create_app(system=system).test_client()
    _, token = system.app.add_user(name="Coordinator", agency="lscb", role="coordinator")
    headers = {"Authorization": f"Bearer {token}"}
    plan = client.post("/api/v1/plans", json={"title": "T", "source": "S", "owner_agency": "lscb"}, headers=headers)
    assert plan.status_code == 201
    plan_url = f"/api/v1/plans/{plan.json['id']}"
    assert client.get(plan_url, headers=headers).status_code == 404  # Written, not yet projected: no worker runs.

    worker = start_worker(queue_settings, tmp_path)
    try:
        eventually(lambda: client.get(plan_url, headers=headers).status_code == 200)
        rec = client.post(
            f"{plan_url}/recommendations", json={"number": "1", "text": "t", "timescale": "now"}, headers=headers
        )
        eventually(lambda: client.get(plan_url, headers=headers).json["recommendations"])
        assert client.get(plan_url, headers=headers).json["recommendations"][0]["id"] == rec.json["id"]
        assert client.get("/readyz").status_code == 200
    finally:
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0, worker.stderr.read() if worker.stderr else ""
        system.close()


def test_worker_refuses_to_start_without_redis(database_url: str, tmp_path: Path) -> None:
    env = {**os.environ, "ACCORD_DATABASE_URL": database_url}
    env.pop("ACCORD_REDIS_URL", None)
    result = subprocess.run(
        [ACCORD, "worker"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode != 0
    assert "ACCORD_REDIS_URL" in result.stderr


def test_saves_enqueue_one_job_per_projection_until_its_job_clears_the_mark(
    queue_settings: Settings, redis_url: str
) -> None:
    """While a projection's job is waiting or running, saves enqueue nothing more for it (the job will read what
    they recorded); once the job has cleared the mark, the next save enqueues again; the worker's timer forces one."""
    assert queue_settings.redis_url
    queue = projection_queue(queue_settings.redis_url, queue_settings.queue)
    names = ["current_status", "history"]
    nudge(queue, names)
    nudge(queue, names)  # A second save while the first's jobs wait.
    assert sorted(job.args[0] for job in queue.jobs) == names
    Redis.from_url(redis_url).delete(pending_key(queue, "history"))  # As history's job does at the head.
    nudge(queue, names)
    assert sorted(job.args[0] for job in queue.jobs) == ["current_status", "history", "history"]
    nudge(queue, ["current_status"], force=True)
    assert [job.args[0] for job in queue.jobs].count("current_status") == 2


def test_a_worker_far_behind_shares_its_catch_up_with_helper_processes(
    queue_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    system = bootstrap(queue_settings)  # Saves only nudge: nothing is projected yet.
    made = plan_with_actions(system.app, 4)
    for n in range(3):
        for action_id, editor in made.actions:
            system.app.post_update(editor, action_id, progress=f"update {n}", rag=("red", "amber", "green")[n])
    monkeypatch.setattr(start, "FAR_BEHIND", 10)  # Far behind, as a worker after a rebuild from empty would be.
    env = {**os.environ, **worker_env(queue_settings)}
    try:
        start.catch_up_on_start(system, env, cpus=2)
        head = system.app.recorder.max_notification_id()
        assert {(s["state"], s["position"]) for s in system.projections.status()} == {("running", head)}
        # This process applied one share (its views hold a position), a helper process the other.
        mine = {name for name in system.projections.names if system.projections.view(name).at is not None}
        assert mine == set(start.shares(system, 2)[0]) != set(system.projections.names)
        assert all(system.projections.verify(name) == [] for name in system.projections.names)
    finally:
        system.close()
