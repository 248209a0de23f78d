"""The authorisation matrix (api-contract.md, Principals): every role, every endpoint the OpenAPI document lists,
on an action of the caller's own agency, of another agency, and one the caller's agency contributes to."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest

from tests.builders import assert_problem, plan_with_action
from tests.conftest import BACKENDS

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)

ROLES = ("coordinator", "editor", "inspector", "reader")
# The action under test is led by health with police contributing; the caller's agency sets the relation.
RELATIONS = {"own": "health", "other": "council", "contributing": "police"}
AUDITORS = ("coordinator", "inspector")


@dataclass
class World:
    """A plan and recommendation shared by every cell, and per cell a fresh action with one update by health."""

    plan_id: str
    recommendation_id: str
    action_id: str = ""
    update_id: str = ""
    meeting_id: str = ""

    def fill(self, name: str) -> str:
        values = {
            "plan_id": self.plan_id,
            "recommendation_id": self.recommendation_id,
            "action_id": self.action_id,
            "update_id": self.update_id,
            "meeting_id": self.meeting_id,
            "agency": RELATIONS["own"],
        }
        if name not in values:
            raise LookupError(f"no value for path parameter {{{name}}}: teach World.fill about it")
        return values[name]


def coordinator_only(role: str, relation: str) -> int:
    return 201 if role == "coordinator" else 403


def coordinator_only_file(role: str, relation: str) -> int:
    return 415 if role == "coordinator" else 403


def lead_or_contributor(role: str, relation: str) -> int:
    """Progress may be posted by a coordinator, the lead agency's editor, or a contributing agency's editor."""
    if role == "coordinator" or (role == "editor" and relation in ("own", "contributing")):
        return 201
    return 403


def own_agency(role: str, relation: str) -> int:
    """The update to retract was posted by health, the lead: its own agency or a coordinator may retract it."""
    return 201 if role == "coordinator" or (role == "editor" and relation == "own") else 403


def auditors_only(role: str, relation: str) -> int:
    return 200 if role in AUDITORS else 403


def everyone_reads(role: str, relation: str) -> int:
    return 200


# Every write the API offers, with a body that is valid, and who may make it. A new POST, PUT, PATCH or DELETE
# in the OpenAPI document fails the matrix until it is added here.
WRITES: dict[tuple[str, str], tuple[Callable[[World], dict[str, Any]], Callable[[str, str], int]]] = {
    ("post", "/api/v1/plans"): (
        lambda w: {"title": "Another plan", "source": "Review", "owner_agency": "lscb"},
        coordinator_only,
    ),
    ("post", "/api/v1/plans/{plan_id}/recommendations"): (
        lambda w: {"number": "9", "text": "Another recommendation", "timescale": "Within 3 months"},
        coordinator_only,
    ),
    ("post", "/api/v1/plans/{plan_id}/actions"): (
        lambda w: {
            "recommendation_id": w.recommendation_id,
            "number": "9.1",
            "description": "Another action",
            "lead_agency": "council",
        },
        coordinator_only,
    ),
    ("post", "/api/v1/plans/{plan_id}/meetings"): (
        lambda w: {"date": "2027-01-20", "title": "Safeguarding board", "updates_due": "2027-01-13"},
        coordinator_only,
    ),
    ("post", "/api/v1/actions/{action_id}/updates"): (lambda w: {"progress": "Reported progress"}, lead_or_contributor),
    ("post", "/api/v1/actions/{action_id}/lead"): (
        lambda w: {"lead_agency": "council", "contributing_agencies": ["health"]},
        coordinator_only,
    ),
    ("post", "/api/v1/actions/{action_id}/updates/{update_id}/retractions"): (
        lambda w: {"reason": "Entered in error"},
        own_agency,
    ),
    # The import takes a plan file, never JSON: a coordinator sending this JSON body is told so (415), every other
    # role is refused first (tests/e2e/test_import.py imports real files).
    ("post", "/api/v1/plans/import"): (lambda w: {"file": "not a plan"}, coordinator_only_file),
}
# Reads that not every role may make; every other read is open to every role ("reads everything").
RESTRICTED_READS = {
    ("get", "/api/v1/access-log"): auditors_only,
    ("get", "/api/v1/audit/head"): auditors_only,
}
METHODS = ("get", "post", "put", "patch", "delete")


def operations(client: Any) -> list[tuple[str, str, dict[str, Any]]]:
    spec = client.get("/api/v1/openapi.json").json
    found = [
        (method, path, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]
    assert len(found) >= 19, "the OpenAPI document lists fewer operations than the API had when this was written"
    return found


def query_for(operation: dict[str, Any]) -> dict[str, str]:
    """Values for the required query parameters, by their documented format."""
    values = {"date": date.today().isoformat(), "date-time": datetime.now(UTC).isoformat()}
    query = {}
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "query" and parameter.get("required"):
            value_format = parameter["schema"].get("format")
            if value_format not in values:
                raise LookupError(f"no value for required query parameter {parameter['name']} ({value_format})")
            query[parameter["name"]] = values[value_format]
    return query


def expectation(method: str, path: str) -> tuple[Callable[[World], dict[str, Any]] | None, Callable[[str, str], int]]:
    if method == "get":
        return None, RESTRICTED_READS.get((method, path), everyone_reads)
    if (method, path) not in WRITES:
        raise LookupError("a write missing from WRITES: say who may make it")
    return WRITES[(method, path)]


def fresh_action(client: Any, world: World, coordinator: dict[str, str], health: dict[str, str]) -> None:
    created = client.post(
        f"/api/v1/plans/{world.plan_id}/actions",
        json={
            "recommendation_id": world.recommendation_id,
            "number": "2.2",
            "description": "Audit health safeguarding training",
            "lead_agency": "health",
            "contributing_agencies": ["police"],
        },
        headers=coordinator,
    )
    assert created.status_code == 201, created.json
    world.action_id = created.json["id"]
    update = client.post(f"/api/v1/actions/{world.action_id}/updates", json={"progress": "Begun"}, headers=health)
    assert update.status_code == 201, update.json
    world.update_id = update.json["id"]


@pytest.mark.parametrize("role", ROLES)
def test_every_role_gets_the_contracts_answer_from_every_endpoint(
    client: Any, system: Any, users: Any, role: str
) -> None:
    coordinator, health = users.headers("coordinator", "lscb"), users.headers("editor", "health")
    plan_id, recommendation_id, _ = plan_with_action(client, coordinator)
    world = World(plan_id, recommendation_id)
    meeting = client.post(
        f"/api/v1/plans/{plan_id}/meetings",
        json={"date": "2027-01-20", "title": "Board", "updates_due": "2027-01-13"},
        headers=coordinator,
    )
    world.meeting_id = meeting.json["id"]
    callers = {relation: users.headers(role, agency) for relation, agency in RELATIONS.items()}
    wrong, cells = [], 0
    for method, path, operation in operations(client):
        for relation, headers in callers.items():
            cell = f"{role} ({relation} agency's action): {method.upper()} {path}"
            try:
                body_for, rule = expectation(method, path)
                fresh_action(client, world, coordinator, health)
                url = path.format_map({name: world.fill(name) for name in _names(path)})
                query = query_for(operation)
            except LookupError as error:
                wrong.append(f"{cell}: {error}")
                continue
            before = system.app.recorder.max_notification_id()
            response = client.open(
                url,
                method=method.upper(),
                json=body_for(world) if body_for else None,
                query_string=query,
                headers=headers,
            )
            cells += 1
            expected = rule(role, relation)
            if response.status_code != expected:
                wrong.append(f"{cell}: {response.status_code}, the contract says {expected}: {response.json}")
            elif expected == 403:
                assert_problem(response, 403)
                if system.app.recorder.max_notification_id() != before:
                    wrong.append(f"{cell}: refused, but something was written")
    assert wrong == [], "\n".join(wrong)
    assert cells >= 19 * len(RELATIONS)


def _names(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{")]


def test_no_token_is_401_on_every_endpoint(client: Any) -> None:
    some_id = "00000000-0000-4000-8000-000000000000"
    for method, path, _ in operations(client):
        url = path.format_map({name: "health" if name == "agency" else some_id for name in _names(path)})
        response = client.open(url, method=method.upper(), json={} if method != "get" else None)
        assert_problem(response, 401)


# Property-level rules: what a body may set depends on the caller's relation to the stored action.


@pytest.mark.parametrize(
    "field", ["lead_agency", "contributing_agencies", "lead_person", "plan_id", "version", "actor", "id"]
)
def test_an_update_that_tries_to_set_a_field_it_may_not_is_refused_and_writes_nothing(
    client: Any, system: Any, users: Any, action_id: str, field: str
) -> None:
    callers = (users.headers("editor", "health"), users.headers("coordinator", "lscb"))
    before = system.app.recorder.max_notification_id()
    for headers in callers:
        response = client.post(
            f"/api/v1/actions/{action_id}/updates", json={"progress": "p", field: "police"}, headers=headers
        )
        assert_problem(response, 422, field)
    assert system.app.recorder.max_notification_id() == before
    action = client.get(f"/api/v1/actions/{action_id}", headers=users.headers("reader", "lscb")).json
    assert (action["lead_agency"], action["version"]) == ("health", 1)


@pytest.mark.parametrize(
    "body",
    [
        {"status": "in_progress"},
        {"rag": "green"},
        {"due_date": "2027-03-31", "reason": "Slipped"},
        {"progress": "p", "status": "completed"},
        {"progress": "p", "rag": "red"},
    ],
    ids=["status", "rag", "due_date", "progress_with_status", "progress_with_rag"],
)
def test_a_contributing_agency_may_not_change_status_rag_or_due_date(
    client: Any, system: Any, users: Any, action_id: str, body: dict[str, Any]
) -> None:
    police = users.headers("editor", "police")
    before = system.app.recorder.max_notification_id()
    response = client.post(f"/api/v1/actions/{action_id}/updates", json=body, headers=police)
    assert_problem(response, 403)
    assert system.app.recorder.max_notification_id() == before


@pytest.mark.parametrize(
    "body",
    [{"progress": "Police joined"}, {"impact": "Fewer missed referrals"}, {"evidence": [{"title": "Minutes"}]}],
    ids=["progress", "impact", "evidence"],
)
def test_a_contributing_agency_may_add_progress_impact_and_evidence(
    client: Any, users: Any, action_id: str, body: dict[str, Any]
) -> None:
    response = client.post(f"/api/v1/actions/{action_id}/updates", json=body, headers=users.headers("editor", "police"))
    assert response.status_code == 201, response.json


def test_a_contributing_agency_may_retract_its_own_update_but_not_the_leads(
    client: Any, users: Any, action_id: str
) -> None:
    police, health = users.headers("editor", "police"), users.headers("editor", "health")
    url = f"/api/v1/actions/{action_id}/updates"
    own = client.post(url, json={"progress": "Police joined"}, headers=police).json["id"]
    leads = client.post(url, json={"progress": "Health began"}, headers=health).json["id"]
    reason = {"reason": "Entered in error"}
    assert client.post(f"{url}/{own}/retractions", json=reason, headers=police).status_code == 201
    assert_problem(client.post(f"{url}/{leads}/retractions", json=reason, headers=police), 403)


def test_who_leads_comes_from_the_stored_action_not_the_request(
    client: Any, coordinator: dict[str, str], users: Any, action_id: str
) -> None:
    health, council = users.headers("editor", "health"), users.headers("editor", "council")
    url = f"/api/v1/actions/{action_id}/updates"
    assert_problem(client.post(url, json={"rag": "red"}, headers=council), 403)
    moved = client.post(
        f"/api/v1/actions/{action_id}/lead", json={"lead_agency": "council", "lead_person": "SMcL"}, headers=coordinator
    )
    assert moved.status_code == 201, moved.json
    assert client.post(url, json={"rag": "red"}, headers=council).status_code == 201
    assert_problem(client.post(url, json={"rag": "green"}, headers=health), 403)
