"""Tamper evidence: `accord audit verify` names the first stored event altered, removed, inserted or reordered.

The tampering here is raw SQL on the events table, done by the tests alone, as an attacker with database access
would; the real `accord` command then checks the store from a separate process.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

import psycopg
import pytest

from adapters.audit import head, verify_chain
from adapters.chain_format import ZERO
from adapters.recorders import ChainedRecorder
from service.bootstrap import System
from tests.builders import plan_with_action
from tests.conftest import BACKENDS, Users

ACCORD = str(Path(sys.executable).with_name("accord"))
HEX64 = re.compile(r"^[0-9a-f]{64}$")
pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)


def accord(database_url: str, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ACCORD_DATABASE_URL": database_url, "ACCORD_DEMO": "no"}
    env.pop("ACCORD_REDIS_URL", None)
    return subprocess.run([ACCORD, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


class Attacker:
    """Raw SQL on the stored events (and, for one test, the chain), bypassing the application."""

    def __init__(self, database_url: str, system: System) -> None:
        recorder = system.app.recorder
        assert isinstance(recorder, ChainedRecorder)
        self.url = database_url
        self.postgres = database_url.startswith("postgresql://")
        if self.postgres:
            schema = recorder.datastore.schema  # type: ignore[attr-defined]
            assert schema == parse_qs(urlsplit(database_url).query)["schema"][0]
            self.events = f'"{schema}"."{recorder.events_table_name}"'
            self.chain = f'"{schema}"."{recorder.chain_table_name}"'
            self.id = "notification_id"
        else:
            self.events, self.chain, self.id = recorder.events_table_name, recorder.chain_table_name, "rowid"

    def execute(self, statement: str, *params: Any) -> list[Any]:
        if self.postgres:
            parts = urlsplit(self.url)
            with psycopg.connect(urlunsplit((*parts[:3], "", "")), autocommit=True) as conn:
                cursor = conn.execute(statement.replace("?", "%s"), params)
                return cursor.fetchall() if cursor.description else []
        with sqlite3.connect(urlsplit(self.url).path) as db:
            rows = db.execute(statement, params).fetchall()
        db.close()
        return rows

    def state(self, position: int) -> bytes:
        return bytes(self.execute(f"SELECT state FROM {self.events} WHERE {self.id} = ?", position)[0][0])

    def set_state(self, position: int, state: bytes) -> None:
        self.execute(f"UPDATE {self.events} SET state = ? WHERE {self.id} = ?", state, position)


@pytest.fixture
def positions(system: System, users: Users, client: Any) -> list[int]:
    """A plan, a recommendation, an action and two updates (one of two events), posted through the API."""
    _, _, action_id = plan_with_action(client, users.headers("coordinator", "lscb"))
    health = users.headers("editor", "health")
    for update in ({"progress": "Meeting arranged"}, {"progress": "Met", "status": "in_progress", "rag": "amber"}):
        posted = client.post(f"/api/v1/actions/{action_id}/updates", json=update, headers=health)
        assert posted.status_code == 201, posted.json
    notifications = system.app.recorder.select_notifications(start=1, limit=1000)
    assert len(notifications) >= 8
    return [n.id for n in notifications]


@pytest.fixture
def attacker(database_url: str, system: System, positions: list[int]) -> Attacker:
    return Attacker(database_url, system)


def assert_breaks(result: subprocess.CompletedProcess[str], position: int, kind: str) -> None:
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert f"chain broken at position {position} (event {kind})" in result.stderr, result.stderr


def test_verify_passes_on_an_untouched_store(database_url: str, positions: list[int], tmp_path: Path) -> None:
    result = accord(database_url, tmp_path, "audit", "verify")
    assert result.returncode == 0, result.stderr
    match = re.fullmatch(r"chain intact: (\d+) events, head ([0-9a-f]{64}) at position (\d+)\n", result.stdout)
    assert match, result.stdout
    assert int(match[1]) == len(positions)
    assert int(match[3]) == positions[-1]
    shown = accord(database_url, tmp_path, "audit", "head")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout == f"{match[3]}:{match[2]}\n"
    assert accord(database_url, tmp_path, "audit", "verify", "--expect", shown.stdout.strip()).returncode == 0


def test_an_empty_store_verifies_with_a_zero_head(database_url: str, system: System, tmp_path: Path) -> None:
    assert head(system.app.recorder).digest == ZERO
    assert head(system.app.recorder).position == 0
    result = accord(database_url, tmp_path, "audit", "verify")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"chain intact: 0 events, head {ZERO} at position 0\n"


def test_one_byte_changed_in_a_stored_event(
    database_url: str, attacker: Attacker, positions: list[int], tmp_path: Path
) -> None:
    position = positions[len(positions) // 2]
    state = bytearray(attacker.state(position))
    state[len(state) // 2] ^= 0x01
    attacker.set_state(position, bytes(state))
    assert_breaks(accord(database_url, tmp_path, "audit", "verify"), position, "altered")


def test_one_stored_event_deleted(database_url: str, attacker: Attacker, positions: list[int], tmp_path: Path) -> None:
    position = positions[3]
    attacker.execute(f"DELETE FROM {attacker.events} WHERE {attacker.id} = ?", position)
    assert_breaks(accord(database_url, tmp_path, "audit", "verify"), position, "removed")


def test_two_stored_events_swapped(database_url: str, attacker: Attacker, positions: list[int], tmp_path: Path) -> None:
    first, second = positions[-4], positions[-1]
    one, other = attacker.state(first), attacker.state(second)
    attacker.set_state(first, other)
    attacker.set_state(second, one)
    assert_breaks(accord(database_url, tmp_path, "audit", "verify"), first, "altered")


def test_one_event_inserted(
    database_url: str, system: System, attacker: Attacker, positions: list[int], tmp_path: Path
) -> None:
    last = system.app.recorder.select_notifications(start=positions[-1], limit=1)[0]
    originator_id = last.originator_id.hex if not attacker.postgres else last.originator_id  # type: ignore[union-attr]
    attacker.execute(
        f"INSERT INTO {attacker.events} (originator_id, originator_version, topic, state) VALUES (?, ?, ?, ?)",
        originator_id,
        last.originator_version + 1,
        last.topic,
        last.state,
    )
    inserted = attacker.execute(f"SELECT MAX({attacker.id}) FROM {attacker.events}")[0][0]
    assert inserted > positions[-1]
    assert_breaks(accord(database_url, tmp_path, "audit", "verify"), inserted, "inserted")


def test_a_truncated_store_fails_against_a_head_reported_earlier(
    database_url: str, attacker: Attacker, positions: list[int], tmp_path: Path
) -> None:
    """Removing the last events together with their chain entries leaves a consistent chain: only a head
    reported before the removal shows it."""
    reported = accord(database_url, tmp_path, "audit", "head").stdout.strip()
    attacker.execute(f"DELETE FROM {attacker.events} WHERE {attacker.id} = ?", positions[-1])
    attacker.execute(f"DELETE FROM {attacker.chain} WHERE notification_id = ?", positions[-1])
    assert accord(database_url, tmp_path, "audit", "verify").returncode == 0
    assert_breaks(accord(database_url, tmp_path, "audit", "verify", "--expect", reported), positions[-1], "removed")


def test_a_rejected_write_leaves_neither_event_nor_chain_entry(
    system: System, users: Users, positions: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = system.app.recorder
    before = head(recorder)

    def fail(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the chain could not be written")

    monkeypatch.setattr(ChainedRecorder, "link", staticmethod(fail))
    with pytest.raises(RuntimeError):
        system.app.add_user(name="Not saved", agency="lscb", role="reader")
    monkeypatch.undo()
    assert recorder.max_notification_id() == positions[-1]
    assert head(recorder) == before
    assert verify_chain(recorder) is None
    system.app.add_user(name="Saved", agency="lscb", role="reader")
    after = head(recorder)
    assert after.position > before.position
    assert verify_chain(recorder) is None


@pytest.fixture
def auditor_headers(users: Users) -> Iterator[dict[str, dict[str, str]]]:
    yield {role: users.headers(role, "health") for role in ("coordinator", "inspector", "editor", "reader")}


def test_the_api_gives_the_head_to_coordinators_and_inspectors(
    system: System, client: Any, auditor_headers: dict[str, dict[str, str]]
) -> None:
    response = client.get("/api/v1/audit/head", headers=auditor_headers["coordinator"])
    assert response.status_code == 200, response.json
    body = response.json
    assert set(body) == {"position", "digest", "algorithm"}
    assert body["algorithm"] == "sha256"
    assert HEX64.match(body["digest"])
    assert body["position"] == system.app.recorder.max_notification_id()
    assert verify_chain(system.app.recorder) is None

    written = client.post(
        "/api/v1/plans",
        json={"title": "Another", "source": "Review", "owner_agency": "lscb"},
        headers=auditor_headers["coordinator"],
    )
    assert written.status_code == 201
    later = client.get("/api/v1/audit/head", headers=auditor_headers["inspector"])
    assert later.status_code == 200
    assert later.json["position"] == written.json["position"]
    assert later.json["digest"] != body["digest"]
    assert HEX64.match(later.json["digest"])

    for role in ("editor", "reader"):
        refused = client.get("/api/v1/audit/head", headers=auditor_headers[role])
        assert refused.status_code == 403, role
        assert refused.content_type == "application/problem+json"
