"""The HTTP API as partner agencies' systems use it, run against SQLite and against PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.builders import assert_problem, plan_with_action
from tests.conftest import BACKENDS

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)


def test_writes_return_201_with_id_and_location(client: Any, coordinator: dict[str, str]) -> None:
    response = client.post(
        "/api/v1/plans", json={"title": "Plan", "source": "Review", "owner_agency": "lscb"}, headers=coordinator
    )
    assert response.status_code == 201
    assert response.headers["Location"].endswith(f"/api/v1/plans/{response.json['id']}")
    assert client.get(response.headers["Location"], headers=coordinator).json["title"] == "Plan"


def test_plan_reads_back_with_recommendations_actions_and_summary(client: Any, coordinator: dict[str, str]) -> None:
    plan_id, rec_id, action_id = plan_with_action(client, coordinator)
    plan = client.get(f"/api/v1/plans/{plan_id}", headers=coordinator).json
    assert plan["recommendations"][0]["id"] == rec_id
    assert plan["recommendations"][0]["actions"][0]["id"] == action_id
    assert plan["summary"]["total"] == 1
    assert plan["summary"]["by_status"]["not_started"] == 1
    listed = client.get("/api/v1/plans", headers=coordinator).json["items"]
    assert [p["id"] for p in listed] == [plan_id]


def test_lead_agency_editor_posts_update_and_reads_it_back(client: Any, health: dict[str, str], action_id: str) -> None:
    posted = client.post(
        f"/api/v1/actions/{action_id}/updates",
        json={
            "progress": "Meeting arranged with PCT lead",
            "status": "in_progress",
            "rag": "amber",
            "effective_date": "2026-02-01",
        },
        headers=health,
    )
    assert posted.status_code == 201, posted.json
    assert posted.json["version"] == 4
    action = client.get(f"/api/v1/actions/{action_id}", headers=health)
    assert action.headers["ETag"] == '"4"'
    assert action.json["status"] == "in_progress"
    assert action.json["rag"] == "amber"
    assert action.json["last_update"] == {"text": "Meeting arranged with PCT lead", "effective_date": "2026-02-01"}
    assert action.json["version"] == 4


def test_due_date_revision_with_reason_changes_due_date(client: Any, health: dict[str, str], action_id: str) -> None:
    posted = client.post(
        f"/api/v1/actions/{action_id}/updates",
        json={"due_date": "2099-03-31", "due_label": "March 2099", "reason": "Timescale likely now to be March"},
        headers=health,
    )
    assert posted.status_code == 201
    action = client.get(f"/api/v1/actions/{action_id}", headers=health).json
    assert (action["due_date"], action["due_label"], action["overdue"]) == ("2099-03-31", "March 2099", False)


def test_agency_work_list_filters_by_status_and_overdue(
    client: Any, coordinator: dict[str, str], health: dict[str, str], action_id: str
) -> None:
    items = client.get("/api/v1/agencies/health/actions?overdue=true", headers=health).json["items"]
    assert [a["id"] for a in items] == [action_id]  # due 2026-06-30, not started
    assert client.get("/api/v1/agencies/health/actions?status=completed", headers=health).json["items"] == []
    assert client.get("/api/v1/agencies/council/actions", headers=health).json["items"] == []
    client.post(f"/api/v1/actions/{action_id}/updates", json={"status": "completed", "rag": "blue"}, headers=health)
    done = client.get("/api/v1/agencies/health/actions?status=completed", headers=health).json["items"]
    assert [(a["id"], a["overdue"]) for a in done] == [(action_id, False)]


def test_contributing_agency_adds_progress_but_cannot_change_status(client: Any, users: Any, action_id: str) -> None:
    police = users.headers("editor", "police")
    ok = client.post(f"/api/v1/actions/{action_id}/updates", json={"progress": "Police joined"}, headers=police)
    assert ok.status_code == 201
    refused = client.post(f"/api/v1/actions/{action_id}/updates", json={"status": "in_progress"}, headers=police)
    assert_problem(refused, 403)


def test_coordinator_assigns_a_new_lead(client: Any, coordinator: dict[str, str], action_id: str) -> None:
    response = client.post(
        f"/api/v1/actions/{action_id}/lead",
        json={"lead_agency": "council", "lead_person": "SMcL", "contributing_agencies": ["health"]},
        headers=coordinator,
    )
    assert response.status_code == 201
    action = client.get(f"/api/v1/actions/{action_id}", headers=coordinator).json
    assert (action["lead_agency"], action["lead_person"], action["contributing_agencies"]) == (
        "council",
        "SMcL",
        ["health"],
    )


# Every bad input the contract names, refused with its status and a problem body.


def test_unknown_field_is_refused_not_dropped(client: Any, health: dict[str, str], action_id: str) -> None:
    response = client.post(
        f"/api/v1/actions/{action_id}/updates", json={"progress": "p", "lead_agency": "police"}, headers=health
    )
    assert_problem(response, 422, "lead_agency")
    assert client.get(f"/api/v1/actions/{action_id}", headers=health).json["version"] == 1


def test_wrong_enum_is_refused(client: Any, health: dict[str, str], action_id: str) -> None:
    assert_problem(
        client.post(f"/api/v1/actions/{action_id}/updates", json={"rag": "purple"}, headers=health), 422, "rag"
    )
    assert_problem(
        client.post(f"/api/v1/actions/{action_id}/updates", json={"status": "done"}, headers=health), 422, "status"
    )


def test_malformed_json_is_400(client: Any, health: dict[str, str], action_id: str) -> None:
    response = client.post(
        f"/api/v1/actions/{action_id}/updates", data='{"progress": ', content_type="application/json", headers=health
    )
    assert_problem(response, 400)


def test_oversize_body_is_413(client: Any, health: dict[str, str], action_id: str) -> None:
    response = client.post(f"/api/v1/actions/{action_id}/updates", json={"progress": "x" * 100_000}, headers=health)
    assert_problem(response, 413)


def test_missing_token_is_401(client: Any, action_id: str) -> None:
    response = client.get(f"/api/v1/actions/{action_id}")
    assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_unknown_token_is_401(client: Any, action_id: str) -> None:
    assert_problem(client.get(f"/api/v1/actions/{action_id}", headers={"Authorization": "Bearer acc_nope"}), 401)


def test_editor_cannot_update_another_agencys_action(client: Any, users: Any, action_id: str) -> None:
    council = users.headers("editor", "council")
    assert_problem(client.post(f"/api/v1/actions/{action_id}/updates", json={"progress": "p"}, headers=council), 403)


@pytest.mark.parametrize("role", ["inspector", "reader"])
def test_read_only_roles_never_write(client: Any, users: Any, action_id: str, role: str) -> None:
    headers = users.headers(role, "health")
    assert client.get(f"/api/v1/actions/{action_id}", headers=headers).status_code == 200
    assert_problem(client.post(f"/api/v1/actions/{action_id}/updates", json={"progress": "p"}, headers=headers), 403)
    assert_problem(
        client.post("/api/v1/plans", json={"title": "t", "source": "s", "owner_agency": "lscb"}, headers=headers), 403
    )


def test_editor_cannot_create_plans(client: Any, health: dict[str, str]) -> None:
    response = client.post("/api/v1/plans", json={"title": "t", "source": "s", "owner_agency": "lscb"}, headers=health)
    assert_problem(response, 403)


def test_future_effective_date_is_refused(client: Any, system: Any, health: dict[str, str], action_id: str) -> None:
    tomorrow = (system.app.today() + timedelta(days=1)).isoformat()
    response = client.post(
        f"/api/v1/actions/{action_id}/updates", json={"progress": "p", "effective_date": tomorrow}, headers=health
    )
    assert_problem(response, 422, "effective_date")


def test_due_date_without_reason_is_refused(client: Any, health: dict[str, str], action_id: str) -> None:
    response = client.post(f"/api/v1/actions/{action_id}/updates", json={"due_date": "2027-01-31"}, headers=health)
    assert_problem(response, 422, "reason")


def test_update_after_completion_is_refused_until_reopened(client: Any, health: dict[str, str], action_id: str) -> None:
    url = f"/api/v1/actions/{action_id}/updates"
    assert client.post(url, json={"status": "completed", "rag": "blue"}, headers=health).status_code == 201
    assert_problem(client.post(url, json={"progress": "more"}, headers=health), 409)
    assert_problem(client.post(url, json={"status": "in_progress"}, headers=health), 422, "reason")
    reopened = client.post(url, json={"status": "in_progress", "reason": "Audit found gaps"}, headers=health)
    assert reopened.status_code == 201


def test_empty_update_is_refused(client: Any, health: dict[str, str], action_id: str) -> None:
    assert_problem(client.post(f"/api/v1/actions/{action_id}/updates", json={}, headers=health), 422)


def test_unknown_ids_are_404(client: Any, coordinator: dict[str, str]) -> None:
    missing = "00000000-0000-4000-8000-000000000000"
    assert_problem(client.get(f"/api/v1/actions/{missing}", headers=coordinator), 404)
    assert_problem(client.get(f"/api/v1/plans/{missing}", headers=coordinator), 404)
    assert_problem(client.post(f"/api/v1/actions/{missing}/updates", json={"progress": "p"}, headers=coordinator), 404)
    assert_problem(client.get("/api/v1/plans/not-a-uuid", headers=coordinator), 404)
    assert_problem(client.get("/api/v1/agencies/fire/actions", headers=coordinator), 404)


def test_action_under_unknown_recommendation_is_404(client: Any, coordinator: dict[str, str]) -> None:
    plan_id, _, _ = plan_with_action(client, coordinator)
    body = {
        "recommendation_id": "00000000-0000-4000-8000-000000000000",
        "number": "9",
        "description": "d",
        "lead_agency": "health",
    }
    assert_problem(client.post(f"/api/v1/plans/{plan_id}/actions", json=body, headers=coordinator), 404)


def test_unknown_agency_is_refused(client: Any, coordinator: dict[str, str]) -> None:
    response = client.post(
        "/api/v1/plans", json={"title": "t", "source": "s", "owner_agency": "fire"}, headers=coordinator
    )
    assert_problem(response, 422, "owner_agency")


def test_stale_if_match_is_412_and_writes_nothing(client: Any, health: dict[str, str], action_id: str) -> None:
    url = f"/api/v1/actions/{action_id}/updates"
    assert client.post(url, json={"progress": "a"}, headers={**health, "If-Match": '"1"'}).status_code == 201
    assert_problem(client.post(url, json={"progress": "b"}, headers={**health, "If-Match": '"1"'}), 412)
    assert client.get(f"/api/v1/actions/{action_id}", headers=health).json["last_update"]["text"] == "a"


def test_openapi_document_describes_every_endpoint(client: Any) -> None:
    spec = client.get("/api/v1/openapi.json").json
    assert {
        "/api/v1/plans",
        "/api/v1/plans/{plan_id}",
        "/api/v1/plans/{plan_id}/recommendations",
        "/api/v1/plans/{plan_id}/actions",
        "/api/v1/actions/{action_id}",
        "/api/v1/actions/{action_id}/updates",
        "/api/v1/agencies/{agency}/actions",
    } <= set(spec["paths"])
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


def test_a_plan_id_that_names_the_import_is_405_as_documented(client: Any, coordinator: dict[str, str]) -> None:
    """/plans/import fits /plans/{plan_id} but is the import's own URL, which takes POST alone."""
    response = client.get("/api/v1/plans/import", headers=coordinator)
    assert_problem(response, 405)
    assert "POST" in response.headers["Allow"] and "GET" not in response.headers["Allow"]
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert "405" in paths["/api/v1/plans/{plan_id}"]["get"]["responses"]
    documented = {
        path for path, ops in paths.items() for m, op in ops.items() if m != "parameters" and "405" in op["responses"]
    }
    assert documented == {"/api/v1/plans/{plan_id}"}  # Nowhere else does a fixed path shadow a parameter.


def test_health_and_readiness_are_open(client: Any) -> None:
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").json["status"] == "ready"


def test_stored_events_are_only_ever_appended(client: Any, system: Any, health: dict[str, str], action_id: str) -> None:
    before = system.app.recorder.select_notifications(start=1, limit=1000)
    client.post(f"/api/v1/actions/{action_id}/updates", json={"progress": "p", "rag": "red"}, headers=health)
    client.post(f"/api/v1/actions/{action_id}/updates", json={"rag": "purple"}, headers=health)
    after = system.app.recorder.select_notifications(start=1, limit=1000)
    assert after[: len(before)] == before
    assert len(after) == len(before) + 2


def test_lists_come_in_bounded_pages(client: Any, coordinator: dict[str, str], health: dict[str, str]) -> None:
    plan_id, rec_id, _ = plan_with_action(client, coordinator)
    for n in range(2, 5):
        body = {"recommendation_id": rec_id, "number": f"2.{n}", "description": "d", "lead_agency": "health"}
        assert client.post(f"/api/v1/plans/{plan_id}/actions", json=body, headers=coordinator).status_code == 201
    url = "/api/v1/agencies/health/actions"
    first = client.get(f"{url}?limit=3", headers=health).json
    assert (len(first["items"]), first["next_offset"]) == (3, 3)
    rest = client.get(f"{url}?limit=3&offset=3", headers=health).json
    assert (len(rest["items"]), rest["next_offset"]) == (1, None)
    everything = client.get(url, headers=health).json["items"]
    assert [a["id"] for a in first["items"] + rest["items"]] == [a["id"] for a in everything]
    assert client.get("/api/v1/plans?limit=1", headers=health).json["next_offset"] is None
    assert_problem(client.get(f"{url}?limit=1001", headers=health), 422, "limit")
    assert_problem(client.get(f"{url}?limit=0", headers=health), 422, "limit")
    assert_problem(client.get(f"{url}?page=2", headers=health), 422, "page")
