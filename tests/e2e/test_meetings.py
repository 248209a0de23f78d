"""Meetings over HTTP: a coordinator adds them; everyone reads them, the next one with its chase list."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from tests.builders import assert_problem, plan_with_action
from tests.conftest import BACKENDS

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)


def test_a_coordinator_adds_meetings_and_the_next_one_carries_the_chase_list(client: Any, users: Any) -> None:
    coordinator, health = users.headers("coordinator"), users.headers("editor", "health")
    plan_id, rec_id, health_action = plan_with_action(client, coordinator)
    council = {"recommendation_id": rec_id, "number": "2.2", "description": "Audit", "lead_agency": "council"}
    council_action = client.post(f"/api/v1/plans/{plan_id}/actions", json=council, headers=coordinator).json["id"]
    today = date.today()
    last = {
        "date": str(today - timedelta(days=1)),
        "title": "Last board",
        "updates_due": str(today - timedelta(days=8)),
    }
    assert client.post(f"/api/v1/plans/{plan_id}/meetings", json=last, headers=coordinator).status_code == 201
    nxt = {
        "date": str(today + timedelta(days=20)),
        "title": "Next board",
        "updates_due": str(today + timedelta(days=13)),
    }
    created = client.post(f"/api/v1/plans/{plan_id}/meetings", json=nxt, headers=coordinator)
    assert created.status_code == 201
    assert client.get(created.headers["Location"], headers=health).json["title"] == "Next board"
    assert client.post(f"/api/v1/actions/{health_action}/updates", json={"progress": "Begun"}, headers=health)

    listed = client.get(f"/api/v1/plans/{plan_id}/meetings", headers=health)
    assert listed.status_code == 200
    first, second = listed.json["items"]
    assert (first["title"], first["next"], first["chase_list"]) == ("Last board", False, None)
    assert (second["id"], second["next"]) == (created.json["id"], True)
    chase = {entry["agency"]: entry for entry in second["chase_list"]}
    assert (chase["health"]["count"], chase["council"]["count"]) == (0, 1)
    assert [a["id"] for a in chase["council"]["actions"]] == [council_action]


def test_meetings_refuse_what_the_contract_refuses(client: Any, users: Any) -> None:
    coordinator = users.headers("coordinator")
    plan_id, _, _ = plan_with_action(client, coordinator)
    url = f"/api/v1/plans/{plan_id}/meetings"
    late = {"date": "2027-01-20", "title": "Board", "updates_due": "2027-01-21"}
    assert_problem(client.post(url, json=late, headers=coordinator), 422, "updates_due")
    assert_problem(client.post(url, json={"date": "2027-01-20", "title": "Board"}, headers=coordinator), 422)
    ok = {"date": "2027-01-20", "title": "Board", "updates_due": "2027-01-13"}
    assert_problem(client.post(url, json=ok, headers=users.headers("editor", "health")), 403)
    missing = "/api/v1/plans/00000000-0000-0000-0000-000000000000/meetings"
    assert_problem(client.post(missing, json=ok, headers=coordinator), 404)
    assert_problem(client.get(missing, headers=coordinator), 404)
    assert_problem(client.get(f"{url}/00000000-0000-0000-0000-000000000000", headers=coordinator), 404)
