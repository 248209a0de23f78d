"""Accord as a new user meets it: `accord serve` in a real process, the CLI, and real HTTP."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import BACKENDS

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "portsmouth-2010.json"
ACCORD = str(Path(sys.executable).with_name("accord"))


class Http:
    def __init__(self, base: str) -> None:
        self.base = base

    def __call__(self, method: str, path: str, token: str | None = None, body: Any = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            assert error.headers["Content-Type"] == "application/problem+json"
            return error.code, json.loads(error.read())


@pytest.fixture
def environment(database_url: str, tmp_path: Path) -> dict[str, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return {**os.environ, "ACCORD_DATABASE_URL": database_url, "ACCORD_PORT": str(port), "ACCORD_DEMO": "no"}


@pytest.fixture
def http(environment: dict[str, str], tmp_path: Path) -> Iterator[Http]:
    server = subprocess.Popen([ACCORD, "serve"], env=environment, cwd=tmp_path, stderr=subprocess.PIPE, text=True)
    http = Http(f"http://127.0.0.1:{environment['ACCORD_PORT']}")
    deadline = time.monotonic() + 30
    while True:
        try:
            if http("GET", "/readyz")[0] == 200:
                break
        except (urllib.error.URLError, ConnectionError):
            pass
        assert server.poll() is None, server.stderr.read() if server.stderr else ""
        assert time.monotonic() < deadline, "accord serve did not become ready"
        time.sleep(0.2)
    yield http
    server.terminate()
    server.wait(timeout=30)


def add_user(environment: dict[str, str], tmp_path: Path, role: str, agency: str) -> str:
    result = subprocess.run(
        [ACCORD, "users", "add", "--name", f"{role} of {agency}", "--agency", agency, "--role", role],
        env=environment,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip().splitlines()[-1]


def test_another_councils_plan_goes_in_and_comes_back_whole(
    http: Http, environment: dict[str, str], tmp_path: Path
) -> None:
    """A coordinator loads Portsmouth's plan, each lead agency's editor posts its updates, an inspector reads."""
    plan = json.loads(FIXTURE.read_text())
    today = date.today()
    coordinator = add_user(environment, tmp_path, "coordinator", "lscb")
    editors: dict[str, str] = {}

    def editor(agency: str) -> str:
        if agency not in editors:
            editors[agency] = add_user(environment, tmp_path, "editor", agency)
        return editors[agency]

    def day(offset: int | None) -> str | None:
        return None if offset is None else (today + timedelta(days=offset)).isoformat()

    status, created = http("POST", "/api/v1/plans", coordinator, plan["plan"])
    assert status == 201, created
    plan_id, expected = created["id"], {}
    for rec in plan["recommendations"]:
        body = {k: v for k, v in rec.items() if k != "actions"}
        status, rec_created = http("POST", f"/api/v1/plans/{plan_id}/recommendations", coordinator, body)
        assert status == 201, rec_created
        for action in rec["actions"]:
            body = {k: v for k, v in action.items() if k not in ("updates", "start_offset_days", "due_offset_days")}
            body |= {
                "recommendation_id": rec_created["id"],
                "effective_date": day(action["start_offset_days"]),
                "due_date": day(action["due_offset_days"]),
            }
            status, action_created = http("POST", f"/api/v1/plans/{plan_id}/actions", coordinator, body)
            assert status == 201, action_created
            state = {"status": "not_started", "rag": None, "due_date": body["due_date"], "last": None}
            for update in action["updates"]:
                by = update["by"]
                token = (
                    coordinator
                    if by == "coordinator"
                    else editor(action["lead_agency"] if by == "lead" else by.removeprefix("contributor:"))
                )
                sent = {
                    k: v
                    for k, v in update.items()
                    if v not in (None, []) and k not in ("by", "offset_days", "due_offset_days")
                }
                sent["effective_date"] = day(update["offset_days"])
                if update["due_offset_days"] is not None:
                    sent["due_date"] = state["due_date"] = day(update["due_offset_days"])
                status, posted = http("POST", f"/api/v1/actions/{action_created['id']}/updates", token, sent)
                assert status == 201, (sent, posted)
                state["status"] = update["status"] or state["status"]
                state["rag"] = update["rag"] or state["rag"]
                if update["progress"]:
                    state["last"] = {"text": update["progress"], "effective_date": sent["effective_date"]}
            expected[action_created["id"]] = (rec["number"], action["number"], action["lead_agency"], state)

    inspector = add_user(environment, tmp_path, "inspector", "lscb")
    status, read = http("GET", f"/api/v1/plans/{plan_id}", inspector)
    assert status == 200
    assert (read["title"], read["source"], read["owner_agency"]) == tuple(plan["plan"].values())
    assert [r["number"] for r in read["recommendations"]] == [r["number"] for r in plan["recommendations"]]
    seen = {}
    for rec in read["recommendations"]:
        for a in rec["actions"]:
            seen[a["id"]] = (
                rec["number"],
                a["number"],
                a["lead_agency"],
                {"status": a["status"], "rag": a["rag"], "due_date": a["due_date"], "last": a["last_update"]},
            )
    assert seen == expected
    assert read["summary"]["total"] == len(expected)
    status, refused = http("POST", f"/api/v1/actions/{next(iter(expected))}/updates", inspector, {"progress": "x"})
    assert status == 403, refused


def test_users_add_prints_the_token_alone_on_its_last_line(environment: dict[str, str], tmp_path: Path) -> None:
    token = add_user(environment, tmp_path, "reader", "police")
    assert token.startswith("acc_") and " " not in token


def test_users_add_refuses_an_unknown_role(environment: dict[str, str], tmp_path: Path) -> None:
    result = subprocess.run(
        [ACCORD, "users", "add", "--name", "x", "--agency", "lscb", "--role", "admin"],
        env=environment,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "invalid choice" in result.stderr
