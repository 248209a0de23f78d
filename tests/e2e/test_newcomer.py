"""What a newcomer meets first: `/` says where to go, and the demo tells a true story in time (issue 8, item 7)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from domain.user import User
from service.bootstrap import System
from service.demo import load_demo
from tests.conftest import BACKENDS

backends = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
THEN = date(2011, 10, 31)


def test_the_root_leads_to_sign_in_whose_page_links_the_openapi_document_and_the_health_checks(client: Any) -> None:
    root = client.get("/")
    assert root.status_code == 302 and root.headers["Location"].startswith("/sign-in")
    page = client.get(root.headers["Location"])
    assert page.status_code == 200 and page.content_type.startswith("text/html")
    html = page.get_data(as_text=True)
    for href in ("/api/v1/openapi.json", "/healthz", "/readyz", "/metrics"):
        assert f'href="{href}"' in html, href
        assert client.get(href).status_code == 200, href


def actions_at(system: System, plan_id: str, known_at: datetime) -> dict[str, dict[str, Any]]:
    status = system.projections.view("temporal").plan_status(plan_id, THEN, known_at)
    return {a["number"]: a for r in status["recommendations"] for a in r["actions"]}


@backends
def test_the_demo_is_recorded_on_its_own_days_of_2011_with_a_late_report_and_a_retraction(system: System) -> None:
    tokens = load_demo(system.app)
    people = ("COORDINATOR", "HEALTH_EDITOR", "COUNCIL_EDITOR", "INSPECTOR")
    assert set(tokens) == {f"{who}_{what}" for who in people for what in ("TOKEN", "EMAIL", "PASSWORD")}
    assert system.app.today() == datetime.now(ZoneInfo("Europe/London")).date()  # The real clock is back.
    events = [system.app.mapper.to_domain_event(n) for n in system.app.recorder.select_notifications(1, 10_000)]
    assert len(events) > 100
    # The story in 2011, in the order of its days; then, today, the demo people's passwords for the pages.
    story = [e for e in events if not isinstance(e, User.PasswordSet)]
    passwords = events[len(story) :]
    assert len(passwords) == len(people) and all(isinstance(e, User.PasswordSet) for e in passwords)
    assert all(e.timestamp.year == 2011 for e in story)
    assert [e.timestamp for e in story] == sorted(e.timestamp for e in story)
    assert all(e.timestamp.date() >= date.today() - timedelta(days=1) for e in passwords)
    [plan] = system.current.list_plans(system.app.today())
    then = actions_at(system, plan["id"], datetime.combine(THEN, time.max, tzinfo=UTC))
    now = actions_at(system, plan["id"], datetime.now(UTC))
    # A late report: effective 18 October, recorded 7 November.
    assert (then["2.2"]["rag"], now["2.2"]["rag"]) == ("green", "amber")
    assert now["2.2"]["last_update"]["text"].startswith("Most contractors have returned the audit")
    # A mistake, posted 24 October and retracted 2 November.
    assert (then["6.1"]["status"], now["6.1"]["status"]) == ("completed", "in_progress")
    history = system.projections.view("history").history(now["6.1"]["id"])
    [mistake] = [item for item in history if item.get("retracted")]
    assert mistake["text"].startswith("EDT now has full access")
    assert mistake["retracted"]["at"].startswith("2011-11-02")
    assert [i["recorded_at"][:10] for i in history if i["type"] == "retraction"] == ["2011-11-02"]
