"""Safe writes over a bad network: writers racing with one If-Match, and retries with one Idempotency-Key, whose
first response may have been lost to a crash or a restart. Against SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from api import create_app
from domain.action import Action
from service.bootstrap import bootstrap
from service.idempotency import IdempotencyKeys
from service.settings import Settings
from tests.builders import assert_problem, plan_with_action
from tests.conftest import BACKENDS, Users

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)


def keyed(headers: dict[str, str], key: str, **more: str) -> dict[str, str]:
    return {**headers, "Idempotency-Key": key, **more}


def updates_stored(system: Any, action_id: str) -> list[str]:
    return [f.update_id for f in system.app.get(Action, UUID(action_id)).facts.values() if f.kind == "update"]


def head(system: Any) -> int:
    return int(system.app.recorder.max_notification_id() or 0)


def crash(*args: Any, **kwargs: Any) -> None:
    """Stands in for the step that keeps the response: the process dies after saving, before answering."""
    raise RuntimeError("the process died after saving, before answering")


# Optimistic concurrency.


@pytest.mark.parametrize("writers", [2, 5])
def test_writers_racing_with_one_if_match_get_one_201_and_the_rest_412(  # noqa: PLR0913, PLR0917
    client: Any, system: Any, health: dict[str, str], action_id: str, monkeypatch: Any, writers: int
) -> None:
    """Every writer has read the action at version 1 before any of them saves."""
    all_loaded = threading.Barrier(writers, timeout=20)
    load = system.app.get

    def load_then_wait(cls: type[Any], aggregate_id: Any) -> Any:
        aggregate = load(cls, aggregate_id)
        if cls is Action:
            all_loaded.wait()
        return aggregate

    monkeypatch.setattr(system.app, "get", load_then_wait)
    statuses: list[int] = []

    def write(n: int) -> None:
        response = (
            create_app(system=system)
            .test_client()
            .post(
                f"/api/v1/actions/{action_id}/updates",
                json={"progress": f"Writer {n}"},
                headers={**health, "If-Match": '"1"'},
            )
        )
        statuses.append(response.status_code)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    monkeypatch.undo()
    assert sorted(statuses) == [201] + [412] * (writers - 1)
    assert len(updates_stored(system, action_id)) == 1
    assert client.get(f"/api/v1/actions/{action_id}", headers=health).json["version"] == 2


def test_a_stale_if_match_is_a_412_problem_and_writes_nothing(
    client: Any, system: Any, health: dict[str, str], action_id: str
) -> None:
    url = f"/api/v1/actions/{action_id}/updates"
    assert client.post(url, json={"rag": "amber"}, headers={**health, "If-Match": '"1"'}).status_code == 201
    before = head(system)
    assert_problem(client.post(url, json={"rag": "red"}, headers={**health, "If-Match": '"1"'}), 412)
    assert head(system) == before


# Idempotency keys.


def test_five_retries_with_one_key_write_one_update_and_get_the_first_response(
    client: Any, system: Any, health: dict[str, str], action_id: str
) -> None:
    url, body = f"/api/v1/actions/{action_id}/updates", {"progress": "Meeting held", "rag": "amber"}
    first = client.post(url, json=body, headers=keyed(health, "retry-1"))
    assert first.status_code == 201, first.json
    after_first = head(system)
    for _ in range(5):
        retry = client.post(url, json=body, headers=keyed(health, "retry-1"))
        assert (retry.status_code, retry.json, retry.headers["Location"]) == (
            201,
            first.json,
            first.headers["Location"],
        )
        assert retry.headers["Idempotent-Replayed"] == "true"
    assert head(system) == after_first
    assert updates_stored(system, action_id) == [first.json["id"]]


def test_the_same_key_on_another_body_or_action_is_a_422_problem_and_writes_nothing(
    client: Any, system: Any, coordinator: dict[str, str], health: dict[str, str], ids: tuple[str, str, str]
) -> None:
    plan_id, recommendation_id, action_id = ids
    url = f"/api/v1/actions/{action_id}/updates"
    assert client.post(url, json={"progress": "a"}, headers=keyed(health, "k")).status_code == 201
    other = client.post(
        f"/api/v1/plans/{plan_id}/actions",
        json={"recommendation_id": recommendation_id, "number": "2.2", "description": "d", "lead_agency": "health"},
        headers=coordinator,
    ).json["id"]
    before = head(system)
    assert_problem(client.post(url, json={"progress": "b"}, headers=keyed(health, "k")), 422, "Idempotency-Key")
    assert_problem(
        client.post(f"/api/v1/actions/{other}/updates", json={"progress": "a"}, headers=keyed(health, "k")),
        422,
        "Idempotency-Key",
    )
    assert head(system) == before


def test_the_same_body_in_another_key_order_is_the_same_request(
    client: Any, system: Any, health: dict[str, str], action_id: str
) -> None:
    url = f"/api/v1/actions/{action_id}/updates"
    first = client.post(
        url, data='{"progress": "p", "rag": "red"}', content_type="application/json", headers=keyed(health, "o")
    )
    again = client.post(
        url, data='{"rag":"red","progress":"p"}', content_type="application/json", headers=keyed(health, "o")
    )
    assert (first.status_code, again.status_code, again.json) == (201, 201, first.json)


def test_keys_belong_to_their_caller(client: Any, system: Any, users: Users, action_id: str) -> None:
    url, body = f"/api/v1/actions/{action_id}/updates", {"progress": "Same words"}
    one, two = users.headers("editor", "health"), users.headers("editor", "health")
    first = client.post(url, json=body, headers=keyed(one, "shared-key"))
    second = client.post(url, json=body, headers=keyed(two, "shared-key"))
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json["id"] != second.json["id"]
    assert "Idempotent-Replayed" not in second.headers
    assert len(updates_stored(system, action_id)) == 2


def test_a_refused_request_leaves_its_key_free_for_the_corrected_one(
    client: Any, system: Any, health: dict[str, str], action_id: str
) -> None:
    url = f"/api/v1/actions/{action_id}/updates"
    assert_problem(client.post(url, json={"due_date": "2027-01-31"}, headers=keyed(health, "fix")), 422, "reason")
    fixed = client.post(url, json={"due_date": "2027-01-31", "reason": "Slipped"}, headers=keyed(health, "fix"))
    assert fixed.status_code == 201, fixed.json


@pytest.mark.parametrize("key", ["", "x" * 256, "naïve", "with space"])
def test_a_malformed_key_is_a_400_problem(client: Any, health: dict[str, str], action_id: str, key: str) -> None:
    response = client.post(f"/api/v1/actions/{action_id}/updates", json={"progress": "p"}, headers=keyed(health, key))
    assert_problem(response, 400)


WRITES_WITH_DERIVED_IDS: dict[str, Callable[[tuple[str, str, str]], tuple[str, dict[str, Any]]]] = {
    "update": lambda ids: (f"/api/v1/actions/{ids[2]}/updates", {"progress": "Lost in a crash", "rag": "green"}),
    "lead": lambda ids: (f"/api/v1/actions/{ids[2]}/lead", {"lead_agency": "council"}),
    "recommendation": lambda ids: (
        f"/api/v1/plans/{ids[0]}/recommendations",
        {"number": "3", "text": "Audit the audit", "timescale": "Within 3 months"},
    ),
    "meeting": lambda ids: (
        f"/api/v1/plans/{ids[0]}/meetings",
        {"date": "2027-01-20", "title": "Safeguarding board", "updates_due": "2027-01-10"},
    ),
}


@pytest.mark.parametrize("write", WRITES_WITH_DERIVED_IDS)
def test_a_retry_after_a_crash_between_the_write_and_its_response_gets_201_and_writes_nothing_more(  # noqa: PLR0913, PLR0917
    client: Any, system: Any, coordinator: dict[str, str], ids: tuple[str, str, str], monkeypatch: Any, write: str
) -> None:
    url, body = WRITES_WITH_DERIVED_IDS[write](ids)
    headers = keyed(coordinator, "crash-1", **({"If-Match": '"1"'} if write == "update" else {}))
    monkeypatch.setattr(IdempotencyKeys, "complete", crash)
    before = head(system)
    lost = client.post(url, json=body, headers=headers)
    assert lost.status_code == 500
    saved = head(system)
    assert saved > before, "the write was saved before the crash"
    monkeypatch.undo()

    retry = client.post(url, json=body, headers=headers)
    assert retry.status_code == 201, retry.json
    assert head(system) == saved
    again = client.post(url, json=body, headers=headers)
    assert (again.status_code, again.json["id"], again.headers["Idempotent-Replayed"]) == (
        201,
        retry.json["id"],
        "true",
    )
    if write == "recommendation":
        found = client.get(f"/api/v1/plans/{ids[0]}/recommendations/{retry.json['id']}", headers=coordinator)
        assert found.status_code == 200
    elif write == "meeting":
        meetings = client.get(f"/api/v1/plans/{ids[0]}/meetings", headers=coordinator).json["items"]
        assert [m["id"] for m in meetings] == [retry.json["id"]]
    else:
        history = client.get(f"/api/v1/actions/{ids[2]}/history", headers=coordinator).json["items"]
        assert [item["id"] for item in history].count(retry.json["id"]) == 1


def test_every_post_takes_a_key_and_a_crashed_one_is_refused_rather_than_written_twice(
    client: Any, system: Any, coordinator: dict[str, str], monkeypatch: Any
) -> None:
    body = {"title": "Keyed plan", "source": "Review", "owner_agency": "lscb"}
    first = client.post("/api/v1/plans", json=body, headers=keyed(coordinator, "plan-1"))
    again = client.post("/api/v1/plans", json=body, headers=keyed(coordinator, "plan-1"))
    assert (first.status_code, again.status_code, again.json) == (201, 201, first.json)
    assert again.headers["Location"] == first.headers["Location"]

    monkeypatch.setattr(IdempotencyKeys, "complete", crash)
    assert client.post("/api/v1/plans", json=body, headers=keyed(coordinator, "plan-2")).status_code == 500
    monkeypatch.undo()
    saved = head(system)
    assert_problem(client.post("/api/v1/plans", json=body, headers=keyed(coordinator, "plan-2")), 409)
    assert head(system) == saved
    assert len(client.get("/api/v1/plans", headers=coordinator).json["items"]) == 2


def test_a_retry_after_a_server_restart_gets_the_first_response(settings: Settings) -> None:
    def serve() -> tuple[Any, Any]:
        system = bootstrap(settings)
        return system, create_app(system=system).test_client()

    system, client = serve()
    users = Users(system)
    coordinator, health = users.headers("coordinator", "lscb"), users.headers("editor", "health")
    action_id = plan_with_action(client, coordinator)[2]
    url, body = f"/api/v1/actions/{action_id}/updates", {"progress": "Before the restart"}
    first = client.post(url, json=body, headers=keyed(health, "restart"))
    written = head(system)
    system.close()

    system, client = serve()
    try:
        retry = client.post(url, json=body, headers=keyed(health, "restart"))
        assert (retry.status_code, retry.json, retry.headers["Location"]) == (
            201,
            first.json,
            first.headers["Location"],
        )
        assert head(system) == written
    finally:
        system.close()


@pytest.fixture
def clock() -> Iterator[list[datetime]]:
    yield [datetime.now(UTC)]


def test_keys_expire_after_the_configured_hours(settings: Settings, clock: list[datetime]) -> None:
    system = bootstrap(settings, clock=lambda: clock[0])
    try:
        client = create_app(system=system).test_client()
        users = Users(system)
        coordinator, health = users.headers("coordinator", "lscb"), users.headers("editor", "health")
        action_id = plan_with_action(client, coordinator)[2]
        url, body = f"/api/v1/actions/{action_id}/updates", {"progress": "Weekly report"}
        first = client.post(url, json=body, headers=keyed(health, "weekly"))
        clock[0] += timedelta(hours=settings.idempotency_hours - 1)
        assert client.post(url, json=body, headers=keyed(health, "weekly")).json == first.json
        clock[0] += timedelta(hours=2)
        later = client.post(url, json=body, headers=keyed(health, "weekly"))
        assert later.status_code == 201 and later.json["id"] != first.json["id"]
        assert "Idempotent-Replayed" not in later.headers
        assert len(updates_stored(system, action_id)) == 2
    finally:
        system.close()
