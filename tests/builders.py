"""Set-up shared by the tests and the benchmarks: a plan with actions, through the use cases or over HTTP, a
throwaway PostgreSQL schema, and the check every error response must pass.

Nothing here needs pytest, so `python -m bench`, run from the repository root, imports it too.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from uuid import UUID

import psycopg
from redis import Redis
from rq import Queue, cron_job_registry

from domain.principals import Principal
from service.app import Accord

AGENCIES = ("council", "health", "police", "education", "lscb")
COORDINATOR = Principal("c", "Coordinator", "lscb", "coordinator")


def editor(agency: str) -> Principal:
    return Principal(f"e-{agency}", f"Editor {agency}", agency, "editor")


# Through the use cases.


@dataclass(frozen=True)
class PlanWithActions:
    plan_id: UUID
    recommendation_id: UUID
    actions: list[tuple[UUID, Principal]]  # Each action, with an editor of its lead agency.

    @property
    def action_ids(self) -> list[UUID]:
        return [action_id for action_id, _ in self.actions]


def plan_with_actions(  # noqa: PLR0913
    app: Accord,
    actions: int = len(AGENCIES),
    *,
    agencies: Sequence[str] = AGENCIES,
    contributors: int = 0,
    start: Callable[[int], date] | None = None,
    due: Callable[[int], date] | None = None,
    coordinator: Principal = COORDINATOR,
) -> PlanWithActions:
    """A plan, one recommendation and `actions` actions numbered 1.0, 1.1, ..., led by `agencies` in turn.

    Action n is helped by the `contributors` agencies after its lead in `agencies`, takes effect on `start(n)`
    (without `start`, today) and is due on `due(n)` (without `due`, it has no due date).
    """
    plan_id = app.create_plan(coordinator, title="Plan", source="tests", owner_agency="lscb").id
    recommendation_id = app.add_recommendation(
        coordinator,
        plan_id,
        number="1",
        text="t",
        timescale="now",
        kind="recommendation",
        reference=None,
        outcomes=[],
        measures=[],
    ).id
    made = []
    for n in range(actions):
        lead = agencies[n % len(agencies)]
        action_id = app.raise_action(
            coordinator,
            plan_id,
            recommendation_id=recommendation_id,
            number=f"1.{n}",
            description="d",
            lead_agency=lead,
            lead_person=None,
            contributing_agencies=[agencies[(n + k) % len(agencies)] for k in range(1, contributors + 1)],
            due_date=due(n) if due else None,
            due_label=None,
            cost=None,
            effective_date=start(n) if start else None,
        ).id
        made.append((action_id, editor(lead)))
    return PlanWithActions(plan_id, recommendation_id, made)


# Over HTTP, with the Flask test client.


def plan_with_action(client: Any, headers: dict[str, str], **action: Any) -> tuple[str, str, str]:
    """A plan, a recommendation and one action led by health, helped by police (`action` overrides its fields),
    posted by the coordinator whose `headers` these are: the three ids."""
    plan = client.post(
        "/api/v1/plans",
        json={"title": "Safeguarding action plan", "source": "Ofsted inspection 2011", "owner_agency": "lscb"},
        headers=headers,
    )
    assert plan.status_code == 201, plan.json
    plan_id = plan.json["id"]
    rec = client.post(
        f"/api/v1/plans/{plan_id}/recommendations",
        json={"number": "2", "text": "Health capacity supports practice", "timescale": "By end June"},
        headers=headers,
    )
    assert rec.status_code == 201, rec.json
    body = {
        "recommendation_id": rec.json["id"],
        "number": "2.1",
        "description": "Review health safeguarding arrangements",
        "lead_agency": "health",
        "contributing_agencies": ["police"],
        "due_date": "2026-06-30",
        "due_label": "By end June",
        "effective_date": "2026-01-05",
        **action,
    }
    created = client.post(f"/api/v1/plans/{plan_id}/actions", json=body, headers=headers)
    assert created.status_code == 201, created.json
    return plan_id, rec.json["id"], created.json["id"]


def assert_problem(response: Any, status: int, field: str | None = None) -> dict[str, Any]:
    """The response is a problem (RFC 9457) with this status, naming `field` among its errors if given: its body."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.content_type == "application/problem+json"
    body = response.json
    assert {"type", "title", "status", "detail"} <= set(body)
    assert body["status"] == status
    assert "Traceback" not in response.get_data(as_text=True)
    if field is not None:
        assert field in body["errors"], body
        assert all(isinstance(m, str) for m in body["errors"][field])
    return body


# PostgreSQL.


@contextmanager
def fresh_schema(database: str, prefix: str = "t_") -> Iterator[str]:
    """The URL of a new, empty schema in the PostgreSQL database at `database`, dropped with all it holds afterwards."""
    schema = f"{prefix}{uuid.uuid4().hex[:10]}"
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        parts = urlsplit(database)
        yield urlunsplit((parts.scheme, parts.netloc, parts.path, f"schema={schema}", ""))
    finally:
        with psycopg.connect(database, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@contextmanager
def own_queue(redis_url: str) -> Iterator[str]:
    """A queue name of one test's own. Afterwards every RQ queue named from it is deleted with its jobs, whatever
    registry they are in (a job's keys carry its id, not its queue's name), then every key that carries the name,
    and its cron jobs' entries in RQ's registry of cron job names."""
    name = f"accord-test-{uuid.uuid4().hex[:8]}"
    try:
        yield name
    finally:
        redis = Redis.from_url(redis_url)
        for queue in Queue.all(connection=redis):
            if queue.name.startswith(name):
                registries = (
                    queue.started_job_registry,
                    queue.finished_job_registry,
                    queue.failed_job_registry,
                    queue.deferred_job_registry,
                    queue.scheduled_job_registry,
                    queue.canceled_job_registry,
                )
                for job_id in {job_id for registry in registries for job_id in registry.get_job_ids()}:
                    redis.delete(f"rq:job:{job_id}", f"rq:results:{job_id}")
                queue.delete(delete_jobs=True)
        for key in redis.scan_iter(f"*{name}*"):  # Its cron jobs' histories among them (named after the queue).
            redis.delete(key)
        cron_jobs = [cron_job for cron_job in cron_job_registry.get_names(redis, cleanup=False) if name in cron_job]
        if cron_jobs:
            redis.zrem(cron_job_registry.get_registry_key(), *cron_jobs)
