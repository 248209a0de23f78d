"""An action's audit trail and retractions, over HTTP, against SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from tests.builders import assert_problem, plan_with_action
from tests.conftest import BACKENDS

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)


def post_update(client: Any, action_id: str, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    response = client.post(f"/api/v1/actions/{action_id}/updates", json=body, headers=headers)
    assert response.status_code == 201, response.json
    return response.json


def history(client: Any, action_id: str, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/actions/{action_id}/history", headers=headers)
    assert response.status_code == 200, response.json
    return response.json["items"]


def retract(
    client: Any, action_id: str, update_id: str, headers: dict[str, str], reason: str = "Entered in error"
) -> Any:
    return client.post(
        f"/api/v1/actions/{action_id}/updates/{update_id}/retractions", json={"reason": reason}, headers=headers
    )


def test_one_item_per_update_in_recorded_order_with_actor_dates_changes_and_text(
    client: Any, coordinator: dict[str, str], health: dict[str, str], action_id: str
) -> None:
    first = post_update(
        client,
        action_id,
        health,
        progress="Meeting arranged with PCT lead",
        status="in_progress",
        rag="amber",
        effective_date="2026-02-01",
    )
    second = post_update(
        client, action_id, health, due_date="2026-09-30", due_label="End of September", reason="Staff shortage"
    )
    third = post_update(
        client,
        action_id,
        health,
        rag="green",
        impact="Fewer missed referrals",
        evidence=[{"title": "Audit report", "url": "https://example.org/audit"}],
    )
    items = history(client, action_id, coordinator)
    assert [i["type"] for i in items] == ["created", "update", "update", "update"]
    assert [i["id"] for i in items] == [action_id, first["id"], second["id"], third["id"]]
    seqs = [i["seq"] for i in items]
    assert seqs == sorted(seqs) and seqs[:2] == [1, 2]

    created = items[0]
    assert created["effective_date"] == "2026-01-05"
    assert created["actor"] == {"name": "Test coordinator lscb", "agency": "lscb", "role": "coordinator"}
    assert created["changes"]["lead_agency"] == {"from": None, "to": "health"}
    assert created["changes"]["status"] == {"from": None, "to": "not_started"}
    assert created["text"] == "Review health safeguarding arrangements"

    update = items[1]  # Three events, one item.
    assert update["actor"] == {"name": "Test editor health", "agency": "health", "role": "editor"}
    assert "user_id" not in update["actor"]
    assert update["effective_date"] == "2026-02-01"
    assert datetime.fromisoformat(update["recorded_at"]).utcoffset() is not None
    assert update["changes"] == {
        "status": {"from": "not_started", "to": "in_progress"},
        "rag": {"from": None, "to": "amber"},
    }
    assert update["text"] == "Meeting arranged with PCT lead"
    assert "retracted" not in update

    revision = items[2]
    assert revision["changes"] == {
        "due_date": {"from": "2026-06-30", "to": "2026-09-30"},
        "due_label": {"from": "By end June", "to": "End of September"},
    }
    assert revision["reason"] == "Staff shortage"
    assert revision["text"] is None

    rating = items[3]
    assert rating["changes"] == {"rag": {"from": "amber", "to": "green"}}
    assert rating["impact"] == "Fewer missed referrals"
    assert rating["evidence"] == [{"title": "Audit report", "url": "https://example.org/audit"}]


def test_each_posted_update_appears_exactly_once(
    client: Any, users: Any, health: dict[str, str], action_id: str
) -> None:
    police = users.headers("editor", "police")
    posted = [
        post_update(client, action_id, health, progress=f"Step {n}", status="in_progress", rag="amber")["id"]
        for n in range(3)
    ]
    posted.append(post_update(client, action_id, police, progress="Police joined")["id"])
    items = history(client, action_id, health)
    ids = [i["id"] for i in items if i["type"] == "update"]
    assert ids == posted
    assert len(set(i["id"] for i in items)) == len(items)
    assert items[-1]["actor"]["agency"] == "police"


def test_creation_and_lead_assignment_are_items(client: Any, coordinator: dict[str, str], action_id: str) -> None:
    assigned = client.post(
        f"/api/v1/actions/{action_id}/lead",
        json={"lead_agency": "council", "lead_person": "SMcL", "contributing_agencies": ["health"]},
        headers=coordinator,
    )
    assert assigned.status_code == 201
    items = history(client, action_id, coordinator)
    assert [i["type"] for i in items] == ["created", "lead_assigned"]
    lead = items[1]
    assert lead["id"] == assigned.json["id"]
    assert lead["changes"] == {
        "lead_agency": {"from": "health", "to": "council"},
        "lead_person": {"from": None, "to": "SMcL"},
        "contributing_agencies": {"from": ["police"], "to": ["health"]},
    }
    assert lead["actor"]["role"] == "coordinator"


def test_retracted_update_stays_in_history_marked_and_leaves_current_state(
    client: Any, coordinator: dict[str, str], health: dict[str, str], action_id: str
) -> None:
    kept = post_update(client, action_id, health, progress="Kept", status="in_progress", effective_date="2026-02-01")
    wrong = post_update(client, action_id, health, progress="Wrong action", status="completed", rag="blue")
    action = client.get(f"/api/v1/actions/{action_id}", headers=health).json
    assert (action["status"], action["rag"], action["last_update"]["text"]) == ("completed", "blue", "Wrong action")

    response = retract(client, action_id, wrong["id"], health, reason="Posted against the wrong action")
    assert response.status_code == 201, response.json
    assert response.headers["Location"].endswith(f"/api/v1/actions/{action_id}/history")
    assert {"id", "version", "position"} <= set(response.json)

    action = client.get(f"/api/v1/actions/{action_id}", headers=health).json
    assert (action["status"], action["rag"]) == ("in_progress", None)
    assert action["last_update"] == {"text": "Kept", "effective_date": "2026-02-01"}
    assert action["version"] == response.json["version"]

    items = history(client, action_id, coordinator)
    assert [i["type"] for i in items] == ["created", "update", "update", "retraction"]
    assert items[1]["id"] == kept["id"] and "retracted" not in items[1]
    marked = items[2]
    assert marked["id"] == wrong["id"]
    assert marked["text"] == "Wrong action"
    assert marked["changes"]["status"] == {"from": "in_progress", "to": "completed"}
    assert marked["retracted"]["by"] == {"name": "Test editor health", "agency": "health", "role": "editor"}
    assert marked["retracted"]["reason"] == "Posted against the wrong action"
    retraction = items[3]
    assert marked["retracted"]["at"] == retraction["recorded_at"]
    assert retraction["id"] == response.json["id"]
    assert retraction["seq"] == response.json["version"]
    assert retraction["retracts"] == wrong["id"]
    assert retraction["reason"] == "Posted against the wrong action"
    assert retraction["actor"]["agency"] == "health"
    assert retraction["changes"]["status"] == {"from": "completed", "to": "in_progress"}
    assert retraction["changes"]["rag"] == {"from": "blue", "to": None}
    assert retraction["changes"]["last_update"]["to"] == {"text": "Kept", "effective_date": "2026-02-01"}


def test_coordinator_may_retract_any_agencys_update(
    client: Any, coordinator: dict[str, str], health: dict[str, str], action_id: str
) -> None:
    wrong = post_update(client, action_id, health, rag="red")
    assert retract(client, action_id, wrong["id"], coordinator).status_code == 201
    assert client.get(f"/api/v1/actions/{action_id}", headers=health).json["rag"] is None


def test_retraction_refusals(client: Any, users: Any, health: dict[str, str], action_id: str) -> None:
    update_id = post_update(client, action_id, health, progress="p", status="in_progress")["id"]
    police = users.headers("editor", "police")
    assert_problem(retract(client, action_id, update_id, police), 403)
    assert_problem(retract(client, action_id, update_id, users.headers("inspector", "health")), 403)
    assert_problem(retract(client, action_id, update_id, users.headers("reader", "health")), 403)
    missing = "00000000-0000-4000-8000-000000000000"
    assert_problem(retract(client, action_id, missing, health), 404)
    assert_problem(retract(client, missing, update_id, health), 404)
    assert_problem(retract(client, action_id, action_id, health), 404)  # The creation is not an update.
    assert retract(client, action_id, update_id, health).status_code == 201
    assert_problem(retract(client, action_id, update_id, health), 422)
    assert_problem(retract(client, action_id, update_id, health, reason=""), 422, "reason")
    assert_problem(retract(client, action_id, update_id, health, reason="   "), 422, "reason")
    no_reason = client.post(f"/api/v1/actions/{action_id}/updates/{update_id}/retractions", json={}, headers=health)
    assert_problem(no_reason, 422, "reason")
    extra = client.post(
        f"/api/v1/actions/{action_id}/updates/{update_id}/retractions",
        json={"reason": "r", "by": "x"},
        headers=health,
    )
    assert_problem(extra, 422, "by")
    assert [i["type"] for i in history(client, action_id, health)] == ["created", "update", "retraction"]


def test_lead_assignment_cannot_be_retracted_as_an_update(
    client: Any, coordinator: dict[str, str], action_id: str
) -> None:
    assigned = client.post(f"/api/v1/actions/{action_id}/lead", json={"lead_agency": "council"}, headers=coordinator)
    assert_problem(retract(client, action_id, assigned.json["id"], coordinator), 404)


@pytest.mark.parametrize("role", ["coordinator", "editor", "inspector", "reader"])
def test_every_role_reads_history(client: Any, users: Any, action_id: str, role: str) -> None:
    items = history(client, action_id, users.headers(role, "education"))
    assert [i["type"] for i in items] == ["created"]


def test_unknown_action_history_is_404(client: Any, coordinator: dict[str, str]) -> None:
    missing = "00000000-0000-4000-8000-000000000000"
    assert_problem(client.get(f"/api/v1/actions/{missing}/history", headers=coordinator), 404)
    assert_problem(client.get(f"/api/v1/actions/{missing}/history"), 401)


def test_history_and_current_status_match_a_rebuild_after_many_writes(
    client: Any, system: Any, users: Any, coordinator: dict[str, str], health: dict[str, str]
) -> None:
    _, _, action_id = plan_with_action(client, coordinator)
    _, _, other_id = plan_with_action(client, coordinator, lead_agency="police", contributing_agencies=["health"])
    post_update(client, action_id, health, progress="One", status="in_progress", rag="amber")
    late = post_update(client, action_id, health, progress="Late report", rag="red", effective_date="2026-01-10")
    post_update(client, action_id, health, due_date="2026-12-31", reason="Capacity", evidence=[{"title": "Minutes"}])
    post_update(client, other_id, health, progress="Health supports")
    lead = client.post(f"/api/v1/actions/{other_id}/lead", json={"lead_agency": "education"}, headers=coordinator)
    assert lead.status_code == 201
    assert retract(client, action_id, late["id"], health).status_code == 201
    post_update(client, action_id, health, status="completed", rag="blue", impact="Done")
    post_update(client, action_id, health, status="in_progress", reason="Audit found gaps")
    types = [i["type"] for i in history(client, action_id, health)]
    assert types == ["created", "update", "update", "update", "retraction", "update", "update"]
    assert [i["type"] for i in history(client, other_id, health)] == ["created", "update", "lead_assigned"]
    assert system.projections.verify("history") == []
    assert system.projections.verify("current_status") == []


def test_openapi_describes_history_and_retractions(client: Any) -> None:
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert "get" in paths["/api/v1/actions/{action_id}/history"]
    assert "post" in paths["/api/v1/actions/{action_id}/updates/{update_id}/retractions"]


def test_an_item_shows_only_the_fields_whose_value_changed(
    client: Any, coordinator: dict[str, str], health: dict[str, str], action_id: str
) -> None:
    post_update(client, action_id, health, progress="Started", status="in_progress", rag="amber")
    post_update(client, action_id, health, rag="amber", status="in_progress")  # Says what already was.
    post_update(client, action_id, health, rag="amber", progress="Still amber")
    same_lead = {"lead_agency": "health", "lead_person": "Designated Nurse", "contributing_agencies": ["police"]}
    assert client.post(f"/api/v1/actions/{action_id}/lead", json=same_lead, headers=coordinator).status_code == 201
    items = history(client, action_id, health)
    assert [i["changes"] for i in items[2:]] == [{}, {}, {"lead_person": {"from": None, "to": "Designated Nurse"}}]
    assert items[3]["text"] == "Still amber"  # Its text is shown; the RAG it repeated is not a change.
