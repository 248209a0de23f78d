"""Limits: no response carrying case text may be cached, a token may make only so many requests a minute, and
tokens can be listed (never shown) and revoked from the command line."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from redis import Redis

from api import create_app
from service.bootstrap import bootstrap
from service.settings import Settings
from tests.builders import assert_problem, own_queue, plan_with_action
from tests.conftest import BACKENDS, Users

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
ACCORD = str(Path(sys.executable).with_name("accord"))


def test_no_api_response_may_be_stored_by_a_cache(client: Any, coordinator: dict[str, str]) -> None:
    plan_id, _, action_id = plan_with_action(client, coordinator)
    responses = [
        client.get(f"/api/v1/plans/{plan_id}", headers=coordinator),
        client.get(f"/api/v1/actions/{action_id}", headers=coordinator),
        client.get(f"/api/v1/actions/{action_id}/history", headers=coordinator),
        client.post(f"/api/v1/actions/{action_id}/updates", json={"progress": "p"}, headers=coordinator),
        client.post(f"/api/v1/actions/{action_id}/updates", json={"rag": "purple"}, headers=coordinator),
        client.get(f"/api/v1/actions/{uuid.uuid4()}", headers=coordinator),
        client.get("/api/v1/plans"),
        client.get("/api/v1/openapi.json"),
    ]
    assert [r.status_code for r in responses] == [200, 200, 200, 201, 422, 404, 401, 200]
    assert {r.headers.get("Cache-Control") for r in responses} == {"no-store"}


# Rate limits.


@pytest.fixture
def limited(settings: Settings) -> Iterator[Any]:
    system = bootstrap(replace(settings, rate_limit="3/minute"))
    yield create_app(system=system).test_client(), Users(system)
    system.close()


def test_a_token_over_its_rate_limit_gets_a_429_problem_with_retry_after(limited: Any) -> None:
    client, users = limited
    busy, other = users.headers("reader", "lscb"), users.headers("reader", "health")
    reads = ["/api/v1/plans", "/api/v1/audit/head", "/api/v1/rollups/agencies/health"]
    assert [client.get(url, headers=busy).status_code for url in reads] == [200, 403, 200], "all count, refused too"
    refused = client.get("/api/v1/plans", headers=busy)
    assert_problem(refused, 429)
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.headers["Cache-Control"] == "no-store"
    assert client.get("/api/v1/plans", headers=other).status_code == 200, "the limit is per token"
    assert [client.get("/healthz").status_code for _ in range(5)] == [200] * 5, "only the API is limited"


def test_rate_limits_are_counted_in_redis_when_it_is_configured(settings: Settings) -> None:
    redis_url = os.environ.get("ACCORD_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    with own_queue(redis_url) as queue:
        rate_limits_in_redis(replace(settings, redis_url=redis_url, queue=queue, rate_limit="2/minute"))


def rate_limits_in_redis(settings: Settings) -> None:
    system = bootstrap(settings)
    try:
        users = Users(system)
        token = users.headers("reader", "lscb")
        statuses = []
        for _ in range(3):  # Each request through a new app, as if through another server process.
            statuses.append(create_app(system=system).test_client().get("/api/v1/plans", headers=token).status_code)
        assert statuses == [200, 200, 429]
        redis = Redis.from_url(settings.redis_url or "")
        counters = list(redis.scan_iter("LIMITS:LIMITER/accord-rate/*"))
        assert counters
        assert not any(token["Authorization"].split()[1].encode() in key for key in counters), "no token in Redis"
        for key in counters:
            redis.delete(key)
    finally:
        system.close()


def test_the_rate_limit_can_be_turned_off(settings: Settings) -> None:
    system = bootstrap(replace(settings, rate_limit="off"))
    try:
        client, token = create_app(system=system).test_client(), Users(system).headers("reader", "lscb")
        assert {client.get("/api/v1/plans", headers=token).status_code for _ in range(5)} == {200}
    finally:
        system.close()


def test_a_wrong_rate_limit_fails_at_start(settings: Settings, system: Any) -> None:
    with pytest.raises(ValueError):
        create_app(system=replace(system, settings=replace(settings, rate_limit="many per fortnight")))


# Tokens: listed without showing them, and revoked.


def accord(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ACCORD_DATABASE_URL": settings.database_url, "ACCORD_DEMO": "no"}
    return subprocess.run([ACCORD, *args], env=env, capture_output=True, text=True, check=False, timeout=60)


def test_users_are_listed_without_their_tokens_and_a_revoked_token_gets_401(
    client: Any, system: Any, settings: Settings
) -> None:
    editor_id, editor_token = system.app.add_user(name="Dr Khan", agency="health", role="editor")
    reader_id, reader_token = system.app.add_user(name="Board member", agency="lscb", role="reader")
    editor = {"Authorization": f"Bearer {editor_token}"}
    assert client.get("/api/v1/plans", headers=editor).status_code == 200

    listed = accord(settings, "users", "list")
    assert listed.returncode == 0, listed.stderr
    assert editor_token not in listed.stdout and reader_token not in listed.stdout
    rows = [line.split(maxsplit=5) for line in listed.stdout.splitlines()[1:]]
    assert rows == [
        [str(editor_id), "health", "editor", "no", "-", "Dr Khan"],
        [str(reader_id), "lscb", "reader", "no", "-", "Board member"],
    ]

    revoked = accord(settings, "users", "revoke", str(editor_id))
    assert revoked.returncode == 0, revoked.stderr
    response = client.get("/api/v1/plans", headers=editor)
    assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/api/v1/plans", headers={"Authorization": f"Bearer {reader_token}"}).status_code == 200
    assert [u["revoked"] for u in system.app.list_users()] == [True, False]


def test_revoking_an_unknown_user_fails_and_revoking_twice_changes_nothing(system: Any, settings: Settings) -> None:
    unknown = accord(settings, "users", "revoke", str(uuid.uuid4()))
    assert (unknown.returncode, unknown.stderr.strip()) == (2, "accord: no such user")
    user_id, _ = system.app.add_user(name="Leaver", agency="police", role="editor")
    system.app.revoke_user(user_id)
    position = system.app.recorder.max_notification_id()
    system.app.revoke_user(user_id)
    assert system.app.recorder.max_notification_id() == position


def test_a_user_may_be_given_an_email_address_once_per_address(system: Any, settings: Settings) -> None:
    added = accord(
        settings,
        "users",
        "add",
        "--name",
        "Named Nurse",
        "--agency",
        "health",
        "--role",
        "editor",
        "--email",
        " Nurse@Trust.example.org ",
    )
    assert added.returncode == 0, added.stderr
    listed = accord(settings, "users", "list")
    assert listed.stdout.splitlines()[1].split(maxsplit=5)[4:] == ["nurse@trust.example.org", "Named Nurse"]
    assert [u["email"] for u in system.app.list_users()] == ["nurse@trust.example.org"]

    again = accord(
        settings,
        "users",
        "add",
        "--name",
        "Someone else",
        "--agency",
        "police",
        "--role",
        "editor",
        "--email",
        "NURSE@trust.example.org",
    )
    assert (again.returncode, again.stderr.strip()) == (2, "accord: another user already has this email address")
    for wrong in ("nurse", "nurse@localhost", "a b@example.org"):
        refused = accord(
            settings, "users", "add", "--name", "X", "--agency", "police", "--role", "editor", "--email", wrong
        )
        assert refused.returncode == 2, wrong
    assert len(system.app.list_users()) == 1
