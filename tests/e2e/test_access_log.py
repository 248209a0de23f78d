"""The access log (api-contract.md, Audit): reads of histories and of the past are recorded with their purpose,
only coordinators and inspectors may read the log, and nothing can change what it holds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from api.access_log import EXTENSION
from tests.builders import assert_problem, plan_with_action
from tests.conftest import BACKENDS

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
PURPOSE = "Ofsted inspection: sampling health actions"


@pytest.fixture
def inspector(users: Any) -> dict[str, str]:
    return users.headers("inspector", "lscb")


@pytest.fixture
def ids(client: Any, coordinator: dict[str, str], users: Any) -> tuple[str, str, str]:
    plan_id, recommendation_id, action_id = plan_with_action(client, coordinator)
    update = {"progress": "Named child's case reviewed", "rag": "amber"}
    posted = client.post(f"/api/v1/actions/{action_id}/updates", json=update, headers=users.headers("editor", "health"))
    assert posted.status_code == 201
    return plan_id, recommendation_id, action_id


def access_log(client: Any, headers: dict[str, str], **query: str) -> list[dict[str, Any]]:
    response = client.get("/api/v1/access-log", query_string=query, headers=headers)
    assert response.status_code == 200, response.json
    return response.json["items"]


def test_an_inspectors_read_of_a_history_is_logged_with_its_purpose(
    client: Any, coordinator: dict[str, str], inspector: dict[str, str], ids: tuple[str, str, str]
) -> None:
    action_id = ids[2]
    before = datetime.now(UTC)
    read = client.get(f"/api/v1/actions/{action_id}/history", headers={**inspector, "Accord-Purpose": PURPOSE})
    assert read.status_code == 200
    for reader in (coordinator, inspector):
        [entry] = access_log(client, reader, action_id=action_id)
        assert entry["user"]["name"] == "Test inspector lscb"
        assert (entry["user"]["agency"], entry["user"]["role"]) == ("lscb", "inspector")
        assert (entry["what"], entry["action_id"], entry["purpose"]) == ("history", action_id, PURPOSE)
        assert before <= datetime.fromisoformat(entry["at"]) <= datetime.now(UTC)


def test_no_case_text_is_kept_in_the_log(
    client: Any, coordinator: dict[str, str], inspector: dict[str, str], ids: tuple[str, str, str]
) -> None:
    client.get(f"/api/v1/actions/{ids[2]}/history", headers=inspector)
    [entry] = access_log(client, coordinator)
    assert set(entry) == {"at", "user", "what", "action_id", "purpose"}
    assert entry["purpose"] is None
    assert "Named child" not in str(entry)


@pytest.mark.parametrize("role", ["editor", "reader"])
def test_editors_and_readers_may_not_read_the_access_log(client: Any, users: Any, role: str) -> None:
    assert_problem(client.get("/api/v1/access-log", headers=users.headers(role, "health")), 403)


def test_reads_of_the_past_are_logged_and_reads_of_the_present_are_not(
    client: Any, coordinator: dict[str, str], inspector: dict[str, str], ids: tuple[str, str, str]
) -> None:
    plan_id, _, action_id = ids
    today = datetime.now(UTC).date().isoformat()
    assert client.get(f"/api/v1/actions/{action_id}", headers=inspector).status_code == 200
    assert client.get(f"/api/v1/plans/{plan_id}", headers=inspector).status_code == 200
    purpose = {**inspector, "Accord-Purpose": "Board report"}
    reads = [
        f"/api/v1/actions/{action_id}?as_at={today}",
        f"/api/v1/plans/{plan_id}/status?as_at={today}",
        f"/api/v1/plans/{plan_id}/changes?from=2026-01-01&to={today}",
    ]
    for url in reads:
        assert client.get(url, headers=purpose).status_code == 200, url
    entries = access_log(client, coordinator)
    assert [(e["what"], e.get("action_id"), e.get("plan_id"), e["purpose"]) for e in entries] == [
        ("action_as_at", action_id, None, "Board report"),
        ("plan_status", None, plan_id, "Board report"),
        ("plan_changes", None, plan_id, "Board report"),
    ]
    assert entries[0]["params"] == {"as_at": today}
    assert entries[2]["params"] == {"from": "2026-01-01", "to": today}


def test_failed_reads_are_not_logged(client: Any, coordinator: dict[str, str], inspector: dict[str, str]) -> None:
    missing = "00000000-0000-4000-8000-000000000000"
    assert_problem(client.get(f"/api/v1/actions/{missing}/history", headers=inspector), 404)
    assert access_log(client, coordinator) == []


def test_a_purpose_over_500_characters_is_refused_and_the_read_not_served(
    client: Any, coordinator: dict[str, str], inspector: dict[str, str], ids: tuple[str, str, str]
) -> None:
    response = client.get(f"/api/v1/actions/{ids[2]}/history", headers={**inspector, "Accord-Purpose": "x" * 501})
    assert_problem(response, 422, "Accord-Purpose")
    assert access_log(client, coordinator) == []


def test_the_log_filters_by_action_user_and_time(
    client: Any, system: Any, users: Any, coordinator: dict[str, str], ids: tuple[str, str, str]
) -> None:
    plan_id, recommendation_id, first = ids
    second = client.post(
        f"/api/v1/plans/{plan_id}/actions",
        json={"recommendation_id": recommendation_id, "number": "2.2", "description": "d", "lead_agency": "health"},
        headers=coordinator,
    ).json["id"]
    inspector = users.headers("inspector", "education")
    reader = users.headers("reader", "lscb")
    for action_id, headers in ((first, inspector), (second, inspector), (second, reader)):
        assert client.get(f"/api/v1/actions/{action_id}/history", headers=headers).status_code == 200
    assert len(access_log(client, coordinator)) == 3
    assert [e["user"]["role"] for e in access_log(client, coordinator, action_id=second)] == ["inspector", "reader"]
    by_name = access_log(client, coordinator, user="Test inspector education")
    assert [e["action_id"] for e in by_name] == [first, second]
    user_id = by_name[0]["user"]["id"]
    assert access_log(client, coordinator, user=user_id) == by_name
    later = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
    assert access_log(client, coordinator, since=later) == []
    assert len(access_log(client, coordinator, since=by_name[1]["at"])) == 2
    assert len(access_log(client, coordinator, limit="1")) == 1


@pytest.mark.parametrize(
    "statement",
    ["UPDATE {t.access_log} SET purpose = 'edited'", "DELETE FROM {t.access_log}"],
    ids=["update", "delete"],
)
def test_the_log_is_append_only(
    client: Any, coordinator: dict[str, str], inspector: dict[str, str], ids: tuple[str, str, str], statement: str
) -> None:
    client.get(f"/api/v1/actions/{ids[2]}/history", headers={**inspector, "Accord-Purpose": PURPOSE})
    store = client.application.extensions[EXTENSION]
    with pytest.raises(Exception, match="append-only"):
        store.db.run([statement])
    [entry] = access_log(client, coordinator)
    assert entry["purpose"] == PURPOSE
