"""Hostile and odd input (issue 8): text a store cannot keep is refused at the edge, alike on SQLite and PostgreSQL,
with a 422 naming the field and nothing written; deep bodies and far dates are refused; odd but real text is stored
and returned exactly; and after all of it, ordinary updates are 201 and in the action's history."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.builders import assert_problem
from tests.conftest import BACKENDS

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
JSON = {"Content-Type": "application/json"}
# Unstorable: NUL (PostgreSQL text cannot hold it), other C0 controls, and lone surrogates (not Unicode at all).
# Sent as JSON escapes, as a client would.
UNSTORABLE = [r"nul\u0000here", r"bell\u0007", r"escape\u001b[31m", r"lone \ud800 surrogate", r"low \udfff"]
# Ordinary text, however odd: stored and returned exactly.
ODD = [
    "Cyfarfod â'r bwrdd \u2013 ŵyr, ŷd 🏴󠁧󠁢󠁷󠁬󠁳󠁿",
    "right\u200fto\u200eleft مرحبا and a zero\u200bwidth\u200djoiner 👩‍👧",
    "<script>alert('x')</script> & \"quotes\" ' `ticks` \\ back",
    "tab\tnewline\ncarriage\r\nreturn",
    "😀 \U0001f9d1\U0001f3fd\u200d\u2695\ufe0f",
]


def raw_post(client: Any, path: str, body: str, headers: dict[str, str]) -> Any:
    return client.post(path, data=body, headers={**headers, **JSON})


def history(client: Any, action_id: str, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/actions/{action_id}/history", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json["items"]


@pytest.mark.parametrize("text", UNSTORABLE)
def test_unstorable_text_in_an_update_is_422_naming_the_field_and_writes_nothing(
    client: Any, coordinator: dict[str, str], health: dict[str, str], action_id: str, text: str
) -> None:
    path = f"/api/v1/actions/{action_id}/updates"
    before = history(client, action_id, coordinator)
    assert_problem(raw_post(client, path, f'{{"progress": "{text}"}}', health), 422, "progress")
    assert_problem(raw_post(client, path, f'{{"progress": "ok", "impact": "{text}"}}', health), 422, "impact")
    evidence = f'{{"evidence": [{{"title": "{text}"}}]}}'
    assert "title" in " ".join(
        assert_problem(raw_post(client, path, evidence, health), 422, "evidence")["errors"]["evidence"]
    )
    assert history(client, action_id, coordinator) == before
    # The store is not stuck: ordinary writes go on, each answered 201 and in the history.
    for n in range(2):
        written = client.post(path, json={"progress": f"ordinary {n}"}, headers=health)
        assert written.status_code == 201, written.get_data(as_text=True)
    texts = [item["text"] for item in history(client, action_id, coordinator)]
    assert texts[-2:] == ["ordinary 0", "ordinary 1"]


@pytest.mark.parametrize("text", UNSTORABLE[:1] + UNSTORABLE[3:4])
def test_unstorable_text_anywhere_else_is_422_naming_the_field(
    client: Any, coordinator: dict[str, str], health: dict[str, str], ids: tuple[str, str, str], text: str
) -> None:
    plan_id, _, action_id = ids
    plan = f'{{"title": "{text}", "source": "s", "owner_agency": "lscb"}}'
    assert_problem(raw_post(client, "/api/v1/plans", plan, coordinator), 422, "title")
    recommendation = f'{{"number": "9", "text": "t", "timescale": "{text}"}}'
    path = f"/api/v1/plans/{plan_id}/recommendations"
    assert_problem(raw_post(client, path, recommendation, coordinator), 422, "timescale")
    lead = f'{{"lead_agency": "health", "lead_person": "{text}"}}'
    assert_problem(raw_post(client, f"/api/v1/actions/{action_id}/lead", lead, coordinator), 422, "lead_person")
    update = client.post(f"/api/v1/actions/{action_id}/updates", json={"progress": "p"}, headers=health)
    retraction = f"/api/v1/actions/{action_id}/updates/{update.json['id']}/retractions"
    assert_problem(raw_post(client, retraction, f'{{"reason": "{text}"}}', health), 422, "reason")
    url = f'{{"evidence": [{{"title": "t", "url": "https://example.org/{text}"}}]}}'
    assert_problem(raw_post(client, f"/api/v1/actions/{action_id}/updates", url, health), 422, "evidence")
    if "surrogate" not in text:  # A URL is bytes: a surrogate cannot be sent in one (werkzeug decodes with U+FFFD).
        query = {"user": json.loads(f'"{text}"')}
        assert_problem(client.get("/api/v1/access-log", query_string=query, headers=coordinator), 422, "user")
    assert client.get("/api/v1/plans", headers=coordinator).json["items"][0]["title"] == "Safeguarding action plan"


@pytest.mark.parametrize("text", ODD)
def test_odd_but_real_text_is_stored_and_returned_exactly(
    client: Any, coordinator: dict[str, str], health: dict[str, str], action_id: str, text: str
) -> None:
    path = f"/api/v1/actions/{action_id}/updates"
    written = client.post(path, json={"progress": text, "evidence": [{"title": text}]}, headers=health)
    assert written.status_code == 201, written.get_data(as_text=True)
    [item] = history(client, action_id, coordinator)[-1:]
    assert (item["text"], item["evidence"][0]["title"]) == (text, text)
    assert client.get(f"/api/v1/actions/{action_id}", headers=health).json["last_update"]["text"] == text
    plan = client.post(
        "/api/v1/plans", json={"title": text, "source": text, "owner_agency": "lscb"}, headers=coordinator
    )
    assert client.get(f"/api/v1/plans/{plan.json['id']}", headers=coordinator).json["title"] == text


@pytest.mark.parametrize("depth", [17, 1_000, 100_000])
def test_a_body_nested_too_deep_is_400_and_writes_nothing(
    client: Any, coordinator: dict[str, str], health: dict[str, str], ids: tuple[str, str, str], depth: int
) -> None:
    action_id = ids[2]
    deep = "[" * depth + "]" * depth
    for path, body in (
        (f"/api/v1/actions/{action_id}/updates", f'{{"progress": "x", "evidence": {deep}}}'),
        ("/api/v1/plans", f'{{"title": "t", "source": {deep}, "owner_agency": "lscb"}}'),
    ):
        for headers in (health, {**health, "Idempotency-Key": f"deep-{depth}"}):
            response = raw_post(client, path, body, headers if "actions" in path else coordinator)
            assert_problem(response, 413 if len(body) > 65536 else 400)
    # Brackets inside strings are text, however many.
    written = client.post(f"/api/v1/actions/{action_id}/updates", json={"progress": "[{" * 50}, headers=health)
    assert written.status_code == 201
    assert [i["text"] for i in history(client, action_id, coordinator)] == [
        "Review health safeguarding arrangements",
        "[{" * 50,
    ]
    assert len(client.get("/api/v1/plans", headers=coordinator).json["items"]) == 1


def test_time_travel_reaches_the_documented_last_day_and_refuses_beyond_it(
    client: Any, coordinator: dict[str, str], ids: tuple[str, str, str]
) -> None:
    plan_id, _, action_id = ids
    last = client.get(f"/api/v1/actions/{action_id}", query_string={"as_at": "9999-12-30"}, headers=coordinator)
    assert last.status_code == 200, last.get_data(as_text=True)
    assert last.json["id"] == action_id
    status = client.get(f"/api/v1/plans/{plan_id}/status", query_string={"as_at": "9999-12-30"}, headers=coordinator)
    assert [a["id"] for r in status.json["recommendations"] for a in r["actions"]] == [action_id]
    far = {"known_at": "9999-12-30T23:59:59.999999+00:00"}
    assert client.get(f"/api/v1/plans/{plan_id}/status", query_string=far, headers=coordinator).status_code == 200
    refused = [
        (f"/api/v1/actions/{action_id}", {"as_at": "9999-12-31"}, "as_at"),
        (f"/api/v1/plans/{plan_id}/status", {"as_at": "9999-12-31"}, "as_at"),
        (f"/api/v1/plans/{plan_id}/status", {"known_at": "9999-12-31T00:00:00+00:00"}, "known_at"),
        (f"/api/v1/plans/{plan_id}/status", {"known_at": "9999-12-30T23:00:00-05:00"}, "known_at"),  # Past UTC's end.
        (f"/api/v1/actions/{action_id}", {"known_at": "0001-01-01T00:00:00+05:00"}, "known_at"),  # Before its start.
        (f"/api/v1/plans/{plan_id}/changes", {"from": "2026-01-01", "to": "9999-12-31"}, "to"),
        ("/api/v1/access-log", {"since": "0001-01-01T00:00:00+05:00"}, "since"),
    ]
    for path, query, field in refused:
        assert_problem(client.get(path, query_string=query, headers=coordinator), 422, field)


@pytest.mark.parametrize(
    "purpose", ["Board \u2013 café", "Bwrdd Diogelu Plant: adolygiad ŵyr 👩‍👧", "latin-1 only: caf\xe9"]
)
def test_a_purpose_is_kept_exactly_as_sent_in_utf8(
    client: Any, coordinator: dict[str, str], action_id: str, purpose: str
) -> None:
    # As a WSGI server hands headers over: the bytes on the wire, decoded as latin-1.
    wire = purpose.encode("latin-1") if purpose.startswith("latin-1") else purpose.encode("utf-8")
    environ = {"HTTP_ACCORD_PURPOSE": wire.decode("latin-1")}
    read = client.get(f"/api/v1/actions/{action_id}/history", headers=coordinator, environ_overrides=environ)
    assert read.status_code == 200
    [entry] = client.get("/api/v1/access-log", headers=coordinator).json["items"]
    assert entry["purpose"] == purpose


def test_a_purpose_with_control_characters_or_too_long_is_422(
    client: Any, coordinator: dict[str, str], action_id: str
) -> None:
    for purpose in ("board\x00meeting", "x" * 501, ("é" * 501).encode().decode("latin-1")):
        environ = {"HTTP_ACCORD_PURPOSE": purpose}
        read = client.get(f"/api/v1/actions/{action_id}/history", headers=coordinator, environ_overrides=environ)
        assert_problem(read, 422, "Accord-Purpose")
    assert client.get("/api/v1/access-log", headers=coordinator).json["items"] == []
