"""With Redis, RQ's cron scheduler enqueues the daily run and the outbox's retries (JSON jobs, no arguments), and a
real `accord worker` process sends the day's reminders once."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from redis import Redis
from rq.cron import get_cron_job_ids
from rq.utils import now

from service.bootstrap import bootstrap
from service.settings import Settings
from tests.builders import own_queue
from tests.integration.test_reminders import BEHIND, behind_and_up_to_date
from tests.reminders_helpers import smtp_server
from workers.reminders import DELIVER_SECONDS, HOURLY, cron_scheduler, mail_queue_name

ACCORD = str(Path(sys.executable).with_name("accord"))
pytestmark = [pytest.mark.postgres, pytest.mark.parametrize("database_url", ["postgres"], indirect=True)]


@pytest.fixture
def queue_settings(database_url: str) -> Iterator[Settings]:
    redis_url = os.environ.get("ACCORD_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    with own_queue(redis_url) as queue:
        yield Settings(database_url=database_url, redis_url=redis_url, queue=queue)


def run_worker_burst(settings: Settings, port: int, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "ACCORD_DATABASE_URL": settings.database_url,
        "ACCORD_REDIS_URL": settings.redis_url or "",
        "ACCORD_QUEUE": settings.queue,
        "ACCORD_SMTP_URL": f"smtp://127.0.0.1:{port}",
        "ACCORD_REMIND_AT": "00:00",  # Whatever the hour the test runs at, the daily run is due.
    }
    done = subprocess.run(
        [ACCORD, "worker", "--burst"], check=False, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stderr[-2000:]


def test_cron_enqueues_the_daily_run_and_a_worker_sends_it_once(queue_settings: Settings, tmp_path: Path) -> None:
    system = bootstrap(queue_settings)
    try:
        behind_and_up_to_date(system)
    finally:
        system.close()
    redis = Redis.from_url(queue_settings.redis_url or "")
    scheduler = cron_scheduler(redis, mail_queue_name(queue_settings.queue))
    registered = [(job.func_name, job.cron, job.interval) for job in scheduler.get_jobs()]
    assert registered == [
        ("workers.reminders.daily", HOURLY, None),
        ("workers.reminders.deliver", None, DELIVER_SECONDS),
    ]
    with smtp_server() as (inbox, port):
        for _ in range(2):  # Two days' worth of ticks on one day: the second sends nothing.
            for job in scheduler.get_jobs():
                job.next_enqueue_time = now() - timedelta(seconds=1)
            assert len(scheduler.enqueue_jobs()) == 2
            run_worker_burst(queue_settings, port, tmp_path)
            assert inbox.recipients() == sorted(BEHIND)
    # RQ's history of the jobs each cron job spawned is this deployment's own: named after its queue.
    mail = mail_queue_name(queue_settings.queue)
    assert [len(get_cron_job_ids(f"{mail}:{job}", redis)) for job in ("daily", "deliver")] == [2, 2]
