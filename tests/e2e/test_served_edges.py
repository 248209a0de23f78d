"""Hostile input over real HTTP, against `accord serve` (gunicorn): what gunicorn refuses itself (a long request line,
a huge header) is a problem body too, UTF-8 headers arrive as sent, and after a run of hostile requests every
ordinary update is 201 and in its action's history."""

from __future__ import annotations

import json
from http.client import HTTPConnection
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import BACKENDS
from tests.e2e.test_served import Http, add_user, environment, http  # noqa: F401  # Fixtures.

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
PROBLEM = "application/problem+json"


def send(base: str, method: str, path: str, headers: dict[str, Any], body: bytes | None = None) -> tuple[int, Any]:
    """One request with exactly these bytes (http.client sends a bytes header value as it is)."""
    host, port = base.removeprefix("http://").split(":")
    connection = HTTPConnection(host, int(port), timeout=10)
    try:
        connection.putrequest(method, path, skip_accept_encoding=True)
        for name, value in headers.items():
            connection.putheader(name, value)
        if body is not None:
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        raw = response.read()
        if response.status >= 400:
            assert response.getheader("Content-Type") == PROBLEM, raw[:200]
            problem = json.loads(raw)
            assert problem["status"] == response.status, problem
        return response.status, json.loads(raw)
    finally:
        connection.close()


def test_hostile_requests_get_problems_and_ordinary_updates_go_on(
    http: Http,  # noqa: F811
    environment: dict[str, str],  # noqa: F811
    tmp_path: Path,
) -> None:
    coordinator = add_user(environment, tmp_path, "coordinator", "lscb")
    auth = {"Authorization": f"Bearer {coordinator}", "Content-Type": "application/json"}
    status, plan = http("POST", "/api/v1/plans", coordinator, {"title": "P", "source": "s", "owner_agency": "lscb"})
    assert status == 201, plan
    rec = http(
        "POST",
        f"/api/v1/plans/{plan['id']}/recommendations",
        coordinator,
        {"number": "1", "text": "t", "timescale": "now"},
    )[1]
    body = {"recommendation_id": rec["id"], "number": "1.1", "description": "d", "lead_agency": "health"}
    action = http("POST", f"/api/v1/plans/{plan['id']}/actions", coordinator, body)[1]["id"]
    updates = f"/api/v1/actions/{action}/updates"

    # gunicorn's own refusals.
    assert send(http.base, "GET", "/api/v1/plans?q=" + "x" * 10_000, auth)[0] == 414
    assert send(http.base, "GET", "/api/v1/plans", {**auth, "X-Big": "y" * 20_000})[0] == 431
    # Under gunicorn's limits, Flask answers: a long URL is an unknown parameter, a long path no resource.
    assert send(http.base, "GET", "/api/v1/plans?q=" + "x" * 7_000, auth)[0] == 422
    assert send(http.base, "GET", "/api/v1/" + "p" * 7_000, auth)[0] == 404
    # Text no store can keep, deep nesting, far dates.
    for raw in (
        rb'{"progress": "nul\u0000here"}',
        rb'{"progress": "\ud800"}',
        rb'{"reason": "x", "due_label": "\u0007"}',
    ):
        assert send(http.base, "POST", updates, auth, raw)[0] == 422
    assert send(http.base, "POST", updates, auth, b'{"progress": ' + b"[" * 5_000 + b"]" * 5_000 + b"}")[0] == 400
    assert send(http.base, "POST", updates, auth, b'{"progress": "\xff\xfe not UTF-8"}')[0] == 400
    assert send(http.base, "GET", f"/api/v1/actions/{action}?as_at=9999-12-31", auth)[0] == 422
    assert send(http.base, "GET", f"/api/v1/actions/{action}?as_at=9999-12-30", auth)[0] == 200
    # A purpose in UTF-8, as curl sends it, is logged as written.
    purpose = "Board \u2013 café 👩‍👧"
    assert (
        send(http.base, "GET", f"/api/v1/actions/{action}/history", {**auth, "Accord-Purpose": purpose.encode()})[0]
        == 200
    )
    assert http("GET", "/api/v1/access-log", coordinator)[1]["items"][-1]["purpose"] == purpose

    for n in range(3):
        status, written = http("POST", updates, coordinator, {"progress": f"ordinary {n}", "rag": "amber"})
        assert status == 201, written
    texts = [item["text"] for item in http("GET", f"/api/v1/actions/{action}/history", coordinator)[1]["items"]]
    assert texts == ["d", "ordinary 0", "ordinary 1", "ordinary 2"]
