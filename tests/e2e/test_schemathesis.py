"""Generated attacks (issue 5, item 7): schemathesis reads /api/v1/openapi.json and sends generated requests,
valid and invalid, to every operation of the app in process (WSGI) on SQLite; fewer on PostgreSQL; and fewer again
over real HTTP to `accord serve` (gunicorn) on PostgreSQL, where an outside run once found a 500 that none in process
reached.

The store is seeded with a plan, recommendations, actions (one closed) and updates. Two generated requests in three
that were generated valid get those ids in their path (and body, query), known agencies and their own
Idempotency-Key, so that they reach the views and the rules rather than stop at a 404. Most go with a coordinator's
token, a fifth each with a health editor's and an inspector's; schemathesis sends some with none or a mangled one.

Every response must be documented, by the checks schemathesis runs by default (but `positive_data_acceptance`, see
CONFIG): no server error, a status the operation documents, a body matching the documented schema in the
documented media type, documented headers, invalid requests refused, a 401 without a valid token, a 405 with
`Allow` for an undeclared method; and here, every error an RFC 9457 problem. The run is deterministic (derandomised,
no example database) and counts the requests it generates: at least MIN_REQUESTS with a valid token, across every
operation of the document.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings

from api import create_app
from service.bootstrap import System, bootstrap
from service.settings import Settings
from tests.builders import fresh_schema

OPENAPI = "/api/v1/openapi.json"
ACCORD = str(Path(sys.executable).with_name("accord"))
EXAMPLES = 100  # Per operation in the fuzzing phase; the examples and coverage phases add theirs.
POSTGRES_EXAMPLES = 20  # The same, in process on PostgreSQL: each write a PostgreSQL transaction.
SERVED_EXAMPLES = 8  # The same, over real HTTP to `accord serve` (gunicorn) on PostgreSQL.
MIN_REQUESTS = 1000
PROBLEM = "application/problem+json"
# Generated requests sent, per operation; and the statuses they got.
SENT: Counter[str] = Counter()
STATUSES: Counter[tuple[str, int]] = Counter()
ROLES_SENT: Counter[str] = Counter()
STARTED: list[float] = []  # When the `seeded` fixture began.

CONFIG = schemathesis.Config.from_dict(
    {
        "checks": {
            # An invalid request may also be refused for its size (413), besides the usual 4xx.
            "negative_data_rejection": {
                "expected-statuses": [400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 428, 429]
            },
            # Not asserted: a request the schema allows may still break a business rule the schema cannot say
            # (an unknown agency, an effective date before the action started or after today, `from` after `to`,
            # a revised due date without a reason), which is a documented 422.
            "positive_data_acceptance": {"enabled": False},
        }
    }
)


@dataclass
class Seeded:
    """The app under attack, its users' tokens by role, and the ids that exist in its store."""

    system: System
    app: Any
    tokens: dict[str, str]
    ids: dict[str, list[str]]


def pick(case: Any, salt: str, n: int) -> int:
    """A choice in range(n) that depends only on the generated case, so that replays and shrinking see the same."""
    content = repr((salt, case.operation.label, case.path_parameters, case.query, case.body))
    return zlib.crc32(content.encode("utf-8", "surrogatepass")) % n


def seed(client: Any, coordinator: dict[str, str]) -> dict[str, list[str]]:
    def post(path: str, body: dict[str, Any]) -> str:
        response = client.post(path, json=body, headers=coordinator)
        assert response.status_code == 201, response.get_data(as_text=True)
        return str(response.json["id"])

    plan = post("/api/v1/plans", {"title": "Safeguarding plan", "source": "Ofsted 2011", "owner_agency": "lscb"})
    recommendations = [
        post(f"/api/v1/plans/{plan}/recommendations", {"number": n, "text": "Recommendation", "timescale": "soon"})
        for n in ("1", "2")
    ]
    actions = [
        post(
            f"/api/v1/plans/{plan}/actions",
            {
                "recommendation_id": recommendations[i % 2],
                "number": f"1.{i}",
                "description": "Review the arrangements",
                "lead_agency": lead,
                "contributing_agencies": contributing,
                "due_date": "2026-06-30",
                "effective_date": "2026-01-05",
            },
        )
        for i, (lead, contributing) in enumerate([("health", ["police"]), ("council", ["health"]), ("police", [])])
    ]
    updates = [
        post(f"/api/v1/actions/{action}/updates", {"progress": "Started", "status": "in_progress", "rag": "amber"})
        for action in actions
    ]
    post(f"/api/v1/actions/{actions[2]}/updates", {"status": "completed", "progress": "Done"})  # Closed: 409s.
    return {
        "plan_id": [plan],
        "recommendation_id": recommendations,
        "action_id": actions,
        "update_id": updates,
        "agency": ["health", "council", "police"],
    }


def openapi_document() -> dict[str, Any]:
    """The document as the app serves it, read once at import (the tests are made from it) from a throwaway store."""
    with tempfile.TemporaryDirectory() as directory:
        system = bootstrap(Settings(database_url=f"sqlite:///{Path(directory) / 'accord.db'}", load_demo=False))
        try:
            response = create_app(system=system).test_client().get(OPENAPI)
        finally:
            system.close()
    assert response.status_code == 200, response.get_data(as_text=True)
    document: dict[str, Any] = response.json
    return document


class SeededApp:
    """The WSGI app the generated requests go to (and the checks' own probes, e.g. without a token): the `seeded`
    fixture's, made only when the tests run; the schema, and so its operations, need one when they are collected."""

    app: Any = None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        assert self.app is not None, "the `seeded` fixture sets the app"
        return self.app(environ, start_response)


APP = SeededApp()


@schemathesis.serializer(
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
)
def plan_file(context: Any, value: Any) -> bytes:
    """The plan import's bodies (binary strings) sent as generated: garbage must get a 422, never a 500."""
    data = getattr(value, "data", value)
    return data.encode() if isinstance(data, str) else bytes(data)


DOCUMENT = openapi_document()
schema = schemathesis.openapi.from_dict(DOCUMENT, config=CONFIG)
schema.app = APP  # As `from_wsgi` does.
over_http = schemathesis.openapi.from_dict(DOCUMENT, config=CONFIG)  # To `accord serve`, by requests.


ROLES = ("coordinator", "editor", "inspector")


@over_http.auth(refresh_interval=None)
@schema.auth(refresh_interval=None)
class Roles:
    """Mostly the coordinator (who may do everything); a fifth each, a health editor and an inspector.

    Cases are made, some at collection, before the store and its users exist: the header names the role, and
    `with_tokens` puts the seeded user's token in its place before the call."""

    def get(self, case: Any, context: Any) -> str:
        role = pick(case, "role", 10)
        return "inspector" if role < 2 else "editor" if role < 4 else "coordinator"

    def set(self, case: Any, data: str, context: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


def with_tokens(case: Any, tokens: dict[str, str]) -> str | None:
    """The seeded user's token in place of the role's name; the role, or None when the case sends no valid token
    (schemathesis also generates requests without one, or with a mangled one)."""
    scheme, _, role = (case.headers or {}).get("Authorization", "").partition(" ")
    if scheme == "Bearer" and role in tokens:
        case.headers["Authorization"] = f"Bearer {tokens[role]}"
        return role
    return None


def seeded_system(database_url: str) -> tuple[System, Any, dict[str, str], dict[str, list[str]]]:
    # No rate limit: one token sends well over 600 requests a minute here (test_limits covers the 429). No wait for
    # a generated Accord-Min-Position far beyond the store's head: the read answers at once, `Accord-Caught-Up: false`.
    settings = Settings(database_url=database_url, load_demo=False, rate_limit="off", wait_seconds=0.0)
    system = bootstrap(settings)
    app = create_app(system=system)
    tokens = {
        "coordinator": system.app.add_user(name="Fuzz coordinator", agency="lscb", role="coordinator")[1],
        "editor": system.app.add_user(name="Fuzz health editor", agency="health", role="editor")[1],
        "inspector": system.app.add_user(name="Fuzz inspector", agency="lscb", role="inspector")[1],
    }
    ids = seed(app.test_client(), {"Authorization": f"Bearer {tokens['coordinator']}"})
    return system, app, tokens, ids


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    STARTED.append(time.monotonic())
    yield from serving(seeded_system(f"sqlite:///{tmp_path_factory.mktemp('schemathesis') / 'accord.db'}"))


@pytest.fixture(scope="module")
def seeded_postgres(postgres_database: str) -> Iterator[Seeded]:
    STARTED.append(time.monotonic())
    with fresh_schema(postgres_database) as url:
        yield from serving(seeded_system(url))


def serving(seeded: tuple[System, Any, dict[str, str], dict[str, list[str]]]) -> Iterator[Seeded]:
    """The app the generated requests go to, while the tests using it run."""
    system, app, tokens, ids = seeded
    before, APP.app = APP.app, app
    yield Seeded(system, app, tokens, ids)
    APP.app = before
    system.close()


@pytest.fixture(scope="module")
def served(postgres_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Seeded, str]]:
    """`accord serve` (gunicorn) in its own process, on a store seeded as the others: the seed and the users are
    written in process first, then the server reads the same PostgreSQL schema."""
    STARTED.append(time.monotonic())
    with fresh_schema(postgres_database) as url:
        system, _, tokens, ids = seeded_system(url)
        system.close()
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        env = {**os.environ, "ACCORD_DATABASE_URL": url, "ACCORD_PORT": str(port), "ACCORD_DEMO": "no"}
        env |= {"ACCORD_RATE_LIMIT": "off", "ACCORD_WAIT_SECONDS": "0"}
        cwd = tmp_path_factory.mktemp("served")
        server = subprocess.Popen([ACCORD, "serve"], env=env, cwd=cwd, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if requests.get(f"{base}/readyz", timeout=5).status_code == 200:
                        break
                except requests.ConnectionError:
                    pass
                assert server.poll() is None and time.monotonic() < deadline, "accord serve did not start"
                time.sleep(0.2)
            yield Seeded(system, None, tokens, ids), base
        finally:
            server.terminate()
            server.wait(timeout=30)


def generated_valid(case: Any, location: str) -> bool:
    """Whether the case's `location` (path, query, body) was generated valid: only those get real values, so that a
    value meant to be refused stays as generated (and so that schemathesis still judges the case by what it sent)."""
    components = case.meta.components if case.meta is not None else {}
    return all(
        info.mode == schemathesis.GenerationMode.POSITIVE
        for where, info in components.items()
        if where.value == location
    )


def plug_in_ids(case: Any, ids: dict[str, list[str]]) -> None:
    """Two requests in three get ids that exist, in the path and in the body or query, a body that names known
    agencies and takes effect today, and an Idempotency-Key of their own, so that more of them get past the lookups
    and the business rules."""
    if pick(case, "plug", 3) == 0:
        return
    if generated_valid(case, "path"):
        for name in list(case.path_parameters or {}):
            if name in ids:
                # One salt for all: an action and an update of the same index belong together.
                case.path_parameters[name] = ids[name][pick(case, "row", len(ids[name]))]
    if generated_valid(case, "query") and isinstance(case.query, dict) and "action_id" in case.query:
        case.query["action_id"] = ids["action_id"][0]
    if generated_valid(case, "body") and isinstance(case.body, dict):
        plug_into_body(case, case.body, ids)
    if generated_valid(case, "header") and case.headers:
        key = case.headers.get("Idempotency-Key")
        if key:
            # Generated keys are short and often alike: reused with another request, each is a 422. One per case
            # (so a replayed case replays), for the writes to go through.
            case.headers["Idempotency-Key"] = f"{pick(case, 'key', 2**32):08x}-{key}"[:255]
        if pick(case, "If-Match", 2):
            case.headers.pop("If-Match", None)  # A generated version is almost always stale: 412.


def plug_into_body(case: Any, body: dict[str, Any], ids: dict[str, list[str]]) -> None:
    if "recommendation_id" in body:
        body["recommendation_id"] = ids["recommendation_id"][pick(case, "body", 2)]
    for name in ("owner_agency", "lead_agency"):
        if name in body:
            body[name] = ids["agency"][pick(case, name, len(ids["agency"]))]
    if "contributing_agencies" in body:
        body["contributing_agencies"] = ids["agency"][: pick(case, "contributing", 3)]
    body.pop("effective_date", None)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_generated_requests_get_documented_answers(case: Any, seeded: Seeded) -> None:
    check(case, seeded)


@pytest.mark.postgres
@schema.parametrize()
@settings(
    max_examples=POSTGRES_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_generated_requests_get_documented_answers_on_postgresql(case: Any, seeded_postgres: Seeded) -> None:
    check(case, seeded_postgres)


@pytest.mark.postgres
@over_http.parametrize()
@settings(
    max_examples=SERVED_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_generated_requests_over_http_to_accord_serve_get_documented_answers(
    case: Any, served: tuple[Seeded, str]
) -> None:
    seeded, base = served
    check(case, seeded, base_url=base)


def check(case: Any, seeded: Seeded, **call: Any) -> None:
    plug_in_ids(case, seeded.ids)
    role = with_tokens(case, seeded.tokens)
    response = case.call_and_validate(**call)
    SENT[case.operation.label] += 1
    ROLES_SENT[role or "no valid token"] += 1
    STATUSES[case.operation.label, response.status_code] += 1
    if response.status_code >= 400:
        assert response.headers.get("content-type", [""])[0].split(";")[0] == PROBLEM, response.text
        body = json.loads(response.text)
        assert {"type", "title", "status", "detail"} <= set(body), body
        assert body["status"] == response.status_code, body
        assert "Traceback" not in response.text


# What the run found, each pinned by a plain test.


def test_the_document_resolves_and_documents_every_error_as_a_problem() -> None:
    """It once pointed every `default` response at a component that did not exist, and called problems JSON."""
    document = openapi_document()
    responses = document["components"]["responses"]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            assert "default" not in operation["responses"], (method, path)
            for status, documented in operation["responses"].items():
                response = responses[documented["$ref"].rsplit("/", 1)[1]] if "$ref" in documented else documented
                if int(status) >= 400:
                    assert list(response["content"]) == [PROBLEM], (method, path, status)


def test_an_undeclared_method_is_405_with_allow(seeded: Seeded) -> None:
    response = seeded.app.test_client().delete("/api/v1/plans", headers=bearer(seeded, "coordinator"))
    assert response.status_code == 405
    assert response.content_type == PROBLEM
    assert {"GET", "POST"} <= {m.strip() for m in response.headers["Allow"].split(",")}


@pytest.mark.parametrize("body", [{}, {"data": "progress=x", "content_type": "application/x-www-form-urlencoded"}])
def test_a_write_without_a_json_body_is_415(seeded: Seeded, body: dict[str, str]) -> None:
    """Not read as `{}`, which an update's optional fields would let through to the rules (or an If-Match)."""
    action = seeded.ids["action_id"][0]
    headers = {**bearer(seeded, "coordinator"), "If-Match": '"1"'}
    response = seeded.app.test_client().post(f"/api/v1/actions/{action}/updates", headers=headers, **body)
    assert response.status_code == 415, response.get_data(as_text=True)
    assert response.content_type == PROBLEM


def test_an_over_long_purpose_is_refused_on_every_read_that_documents_it(seeded: Seeded) -> None:
    action = seeded.ids["action_id"][0]
    headers = {**bearer(seeded, "inspector"), "Accord-Purpose": "x" * 10_000}
    response = seeded.app.test_client().get(f"/api/v1/actions/{action}", headers=headers)  # Current, not as at.
    assert response.status_code == 422, response.get_data(as_text=True)
    assert "Accord-Purpose" in response.json["errors"]


def bearer(seeded: Seeded, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {seeded.tokens[role]}"}


def test_the_run_sent_at_least_a_thousand_requests_with_valid_tokens_across_every_operation() -> None:
    if not SENT:
        pytest.skip("runs after test_generated_requests_get_documented_answers, in the same session")
    operations = {result.ok().label for result in schema.get_all_operations()}
    total, with_token = sum(SENT.values()), sum(n for role, n in ROLES_SENT.items() if role in ROLES)
    took = time.monotonic() - min(STARTED)
    print(f"\nschemathesis: {total} generated requests in {took:.0f}s, by {dict(ROLES_SENT)}")
    for label in sorted(SENT):
        statuses = ", ".join(f"{status}: {n}" for (of, status), n in sorted(STATUSES.items()) if of == label)
        print(f"  {label}: {SENT[label]} ({statuses})")
    assert set(SENT) == operations, operations - set(SENT)
    assert with_token >= MIN_REQUESTS, ROLES_SENT
    assert all(ROLES_SENT[role] for role in ROLES), ROLES_SENT
