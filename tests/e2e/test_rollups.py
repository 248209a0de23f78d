"""Rollups: counts of actions by status, RAG and overdue per plan, recommendation and lead agency."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from tests.conftest import BACKENDS

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)


def counts(
    total: int = 0, overdue: int = 0, status: dict[str, int] | None = None, rag: dict[str, int] | None = None
) -> dict[str, Any]:
    """The expected summary: every status and RAG present, zero unless given."""
    by_status = {"not_started": 0, "in_progress": 0, "completed": 0, "withdrawn": 0, **(status or {})}
    by_rag = {"red": 0, "amber": 0, "green": 0, "blue": 0, **(rag or {})}
    return {"total": total, "by_status": by_status, "by_rag": by_rag, "overdue": overdue}


class Plan:
    """A plan built over HTTP by a coordinator."""

    def __init__(self, client: Any, headers: dict[str, str]) -> None:
        self.client, self.headers = client, headers
        created = client.post(
            "/api/v1/plans",
            json={"title": "JTAI action plan", "source": "Joint targeted area inspection", "owner_agency": "lscb"},
            headers=headers,
        )
        assert created.status_code == 201, created.json
        self.id = created.json["id"]

    def recommendation(self, number: str) -> str:
        response = self.client.post(
            f"/api/v1/plans/{self.id}/recommendations",
            json={"number": number, "text": f"Recommendation {number}", "timescale": "within 3 months"},
            headers=self.headers,
        )
        assert response.status_code == 201, response.json
        return str(response.json["id"])

    def action(self, recommendation_id: str, number: str, lead_agency: str, due: date | None = None) -> str:
        body = {
            "recommendation_id": recommendation_id,
            "number": number,
            "description": f"Action {number}",
            "lead_agency": lead_agency,
            "due_date": due.isoformat() if due else None,
        }
        response = self.client.post(f"/api/v1/plans/{self.id}/actions", json=body, headers=self.headers)
        assert response.status_code == 201, response.json
        return str(response.json["id"])

    def update(self, action_id: str, **body: Any) -> str:
        response = self.client.post(f"/api/v1/actions/{action_id}/updates", json=body, headers=self.headers)
        assert response.status_code == 201, response.json
        return str(response.json["id"])

    def retract(self, action_id: str, update_id: str, reason: str) -> None:
        response = self.client.post(
            f"/api/v1/actions/{action_id}/updates/{update_id}/retractions",
            json={"reason": reason},
            headers=self.headers,
        )
        assert response.status_code == 201, response.json

    def lead(self, action_id: str, agency: str) -> None:
        response = self.client.post(
            f"/api/v1/actions/{action_id}/lead", json={"lead_agency": agency}, headers=self.headers
        )
        assert response.status_code == 201, response.json


def rollup(client: Any, headers: dict[str, str], scope: str, scope_id: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/rollups/{scope}/{scope_id}", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return dict(response.json)


@pytest.fixture
def plan(client: Any, coordinator: dict[str, str]) -> Plan:
    return Plan(client, coordinator)


def test_counts_by_status_and_rag_per_plan_recommendation_and_agency(
    client: Any, coordinator: dict[str, str], plan: Plan
) -> None:
    rec1, rec2 = plan.recommendation("1"), plan.recommendation("2")
    a11 = plan.action(rec1, "1.1", "health")
    a12 = plan.action(rec1, "1.2", "police")
    a21 = plan.action(rec2, "2.1", "health")
    assert rollup(client, coordinator, "plans", plan.id) == counts(3, status={"not_started": 3})

    plan.update(a11, status="in_progress", rag="amber", progress="Audit under way")
    plan.update(a12, status="completed", rag="blue")
    plan.update(a21, rag="red")
    plan.update(a11, rag="green")  # Replaces amber: the action is counted once, under its current RAG.
    plan.update(a21, progress="Nothing to count")

    assert rollup(client, coordinator, "plans", plan.id) == counts(
        3, status={"not_started": 1, "in_progress": 1, "completed": 1}, rag={"green": 1, "blue": 1, "red": 1}
    )
    assert rollup(client, coordinator, "recommendations", rec1) == counts(
        2, status={"in_progress": 1, "completed": 1}, rag={"green": 1, "blue": 1}
    )
    assert rollup(client, coordinator, "recommendations", rec2) == counts(1, status={"not_started": 1}, rag={"red": 1})
    assert rollup(client, coordinator, "agencies", "health") == counts(
        2, status={"not_started": 1, "in_progress": 1}, rag={"green": 1, "red": 1}
    )
    assert rollup(client, coordinator, "agencies", "police") == counts(1, status={"completed": 1}, rag={"blue": 1})
    assert rollup(client, coordinator, "agencies", "council") == counts()


def test_plan_summaries_are_the_rollups(client: Any, coordinator: dict[str, str], plan: Plan) -> None:
    empty = Plan(client, coordinator)
    rec = plan.recommendation("1")
    plan.update(plan.action(rec, "1.1", "health"), status="in_progress", rag="amber")
    plan.action(rec, "1.2", "education")
    expected = counts(2, status={"not_started": 1, "in_progress": 1}, rag={"amber": 1})
    assert rollup(client, coordinator, "plans", plan.id) == expected
    assert client.get(f"/api/v1/plans/{plan.id}", headers=coordinator).json["summary"] == expected
    listed = {p["id"]: p["summary"] for p in client.get("/api/v1/plans", headers=coordinator).json["items"]}
    assert listed == {plan.id: expected, empty.id: counts()}
    assert rollup(client, coordinator, "plans", empty.id) == counts()
    assert client.get(f"/api/v1/plans/{empty.id}", headers=coordinator).json["summary"] == counts()


def test_lead_reassignment_moves_the_action_between_agencies(
    client: Any, coordinator: dict[str, str], plan: Plan
) -> None:
    rec = plan.recommendation("1")
    action = plan.action(rec, "1.1", "health")
    plan.update(action, status="in_progress", rag="red")
    in_progress_red = counts(1, status={"in_progress": 1}, rag={"red": 1})
    assert rollup(client, coordinator, "agencies", "health") == in_progress_red

    plan.lead(action, "council")
    assert rollup(client, coordinator, "agencies", "health") == counts()
    assert rollup(client, coordinator, "agencies", "council") == in_progress_red
    assert rollup(client, coordinator, "plans", plan.id) == in_progress_red  # Still one action of the plan.
    assert rollup(client, coordinator, "recommendations", rec) == in_progress_red

    plan.update(action, rag="green")  # Counted under its new lead from now on.
    assert rollup(client, coordinator, "agencies", "council") == counts(1, status={"in_progress": 1}, rag={"green": 1})
    assert rollup(client, coordinator, "agencies", "health") == counts()


def test_a_retraction_undoes_its_counts(client: Any, coordinator: dict[str, str], plan: Plan) -> None:
    rec = plan.recommendation("1")
    action = plan.action(rec, "1.1", "police")
    plan.update(action, status="in_progress", rag="amber")
    mistaken = plan.update(action, status="completed", rag="blue")
    assert rollup(client, coordinator, "plans", plan.id) == counts(1, status={"completed": 1}, rag={"blue": 1})

    plan.retract(action, mistaken, reason="Entered against the wrong action")

    back = counts(1, status={"in_progress": 1}, rag={"amber": 1})
    for scope, scope_id in (("plans", plan.id), ("recommendations", rec), ("agencies", "police")):
        assert rollup(client, coordinator, scope, scope_id) == back


def test_overdue_counts_follow_the_date(client: Any, system: Any, coordinator: dict[str, str], plan: Plan) -> None:
    today = system.app.today()
    yesterday, tomorrow = today - timedelta(days=1), today + timedelta(days=1)
    rec = plan.recommendation("1")
    late = plan.action(rec, "1.1", "health", due=yesterday)
    plan.update(late, status="in_progress", rag="red")
    done = plan.action(rec, "1.2", "health", due=yesterday)
    plan.update(done, status="completed", rag="blue")
    due_today = plan.action(rec, "1.3", "health", due=today)
    due_tomorrow = plan.action(rec, "1.4", "police", due=tomorrow)
    plan.action(rec, "1.5", "police")  # No due date: never overdue.

    for scope, scope_id in (("plans", plan.id), ("recommendations", rec), ("agencies", "health")):
        assert rollup(client, coordinator, scope, scope_id)["overdue"] == 1
    assert rollup(client, coordinator, "agencies", "police")["overdue"] == 0

    # Days pass with no event: what was due today, then tomorrow, falls overdue.
    view = system.projections.view("rollups")
    assert view.summary("plan", plan.id, today + timedelta(days=1))["overdue"] == 2
    assert view.summary("plan", plan.id, today + timedelta(days=2))["overdue"] == 3
    real_clock = system.app.clock
    system.app.clock = lambda: real_clock() + timedelta(days=2)
    try:
        assert rollup(client, coordinator, "plans", plan.id)["overdue"] == 3
        assert rollup(client, coordinator, "agencies", "police")["overdue"] == 1
        assert client.get(f"/api/v1/plans/{plan.id}", headers=coordinator).json["summary"]["overdue"] == 3
    finally:
        system.app.clock = real_clock

    # A revised due date, or completing the action, takes it out of the overdue count.
    plan.update(late, due_date=(today + timedelta(days=30)).isoformat(), reason="Awaiting the new IRO")
    plan.update(due_today, status="withdrawn")
    plan.update(due_tomorrow, status="completed", rag="blue")
    assert view.summary("plan", plan.id, today + timedelta(days=2))["overdue"] == 0
    assert rollup(client, coordinator, "plans", plan.id)["overdue"] == 0


def test_rollups_verify_after_a_series_of_writes(
    client: Any, system: Any, coordinator: dict[str, str], plan: Plan
) -> None:
    today = system.app.today()
    rec1, rec2 = plan.recommendation("1"), plan.recommendation("2a")
    a = plan.action(rec1, "1.1", "health", due=today - timedelta(days=3))
    b = plan.action(rec1, "1.2", "police", due=today + timedelta(days=10))
    c = plan.action(rec2, "2.1", "education")
    plan.update(a, status="in_progress", rag="amber", progress="Started")
    plan.update(a, due_date=(today + timedelta(days=20)).isoformat(), reason="Staff changes")
    plan.update(b, status="completed", rag="blue")
    plan.update(b, status="in_progress", reason="Audit found gaps", rag="red")
    wrong = plan.update(c, status="withdrawn")
    plan.lead(c, "council")
    plan.update(a, rag="green", effective_date=today.isoformat())
    plan.lead(a, "police")
    plan.retract(c, wrong, reason="Not withdrawn after all")

    assert system.projections.verify("rollups") == []
    view = system.projections.view("rollups")
    assert all(row["n"] > 0 for row in view.rows("counts"))  # Counts that fell to 0 are gone.
    before = {scope: view.summaries(scope, today) for scope in ("plan", "recommendation", "agency")}
    assert before["agency"] == {
        "police": counts(2, status={"in_progress": 2}, rag={"green": 1, "red": 1}),
        "council": counts(1, status={"not_started": 1}),
    }
    assert before["recommendation"][rec2] == counts(1, status={"not_started": 1})

    system.projections.rebuild("rollups")
    rebuilt = system.projections.view("rollups")
    assert {scope: rebuilt.summaries(scope, today) for scope in before} == before


@pytest.mark.parametrize("role", ["coordinator", "editor", "inspector", "reader"])
def test_every_role_reads_rollups(client: Any, users: Any, plan: Plan, role: str) -> None:
    rec = plan.recommendation("1")
    plan.action(rec, "1.1", "health")
    headers = users.headers(role, "police")
    for path in (f"plans/{plan.id}", f"recommendations/{rec}", "agencies/health"):
        assert client.get(f"/api/v1/rollups/{path}", headers=headers).status_code == 200


def test_unknown_scopes_are_404_and_a_token_is_needed(client: Any, coordinator: dict[str, str], plan: Plan) -> None:
    missing = "00000000-0000-4000-8000-000000000000"
    for path in (f"plans/{missing}", f"recommendations/{missing}", "agencies/fire", "plans/not-a-uuid"):
        response = client.get(f"/api/v1/rollups/{path}", headers=coordinator)
        assert response.status_code == 404, path
        assert response.content_type == "application/problem+json"
    assert client.get(f"/api/v1/rollups/recommendations/{plan.id}", headers=coordinator).status_code == 404
    assert client.get(f"/api/v1/rollups/plans/{plan.id}").status_code == 401


def test_openapi_documents_the_rollups(client: Any) -> None:
    spec = client.get("/api/v1/openapi.json").json
    for path in ("plans/{plan_id}", "recommendations/{recommendation_id}", "agencies/{agency}"):
        operation = spec["paths"][f"/api/v1/rollups/{path}"]["get"]
        assert {"200", "404"} <= set(operation["responses"])
