"""`accord status` as a person runs it: the real command, against the store the API wrote, on both backends."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from service.bootstrap import System, bootstrap
from service.settings import Settings
from tests.conftest import BACKENDS

backends = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
ACCORD = str(Path(sys.executable).with_name("accord"))


@dataclass
class Story:
    """A small plan written through the API: its id, the day it was written, and the instant just before a late
    report (of 1.2, taking effect on day -40) came in."""

    plan_id: str
    today: date
    before_late_report: datetime

    def day(self, offset: int) -> str:
        return (self.today + timedelta(days=offset)).isoformat()


@pytest.fixture
def story(client: Any, users: Any, system: System) -> Story:
    coordinator = users.headers("coordinator", "lscb")
    today = system.app.today()

    def day(offset: int) -> str:
        return (today + timedelta(days=offset)).isoformat()

    def post(path: str, body: dict[str, Any], headers: dict[str, str] = coordinator) -> str:
        response = client.post(path, json=body, headers=headers)
        assert response.status_code == 201, response.json
        return str(response.json["id"])

    plan_id = post(
        "/api/v1/plans",
        {"title": "Safeguarding Action Plan, 22 March 2011", "source": "Ofsted inspection", "owner_agency": "lscb"},
    )
    recs = [
        post(
            f"/api/v1/plans/{plan_id}/recommendations",
            {"number": number, "text": text, "timescale": "within 3 months"},
        )
        for number, text in (
            ("1", "Health capacity, monitoring and communication supports high quality safeguarding practice"),
            ("2", "Embed performance management at the front line"),
        )
    ]

    def action(rec: str, number: str, lead: str, start: int, due: int) -> str:
        body = {"recommendation_id": rec, "number": number, "description": f"Action {number}", "lead_agency": lead}
        return post(f"/api/v1/plans/{plan_id}/actions", {**body, "effective_date": day(start), "due_date": day(due)})

    nurse = action(recs[0], "1.1", "health", -60, -10)
    police = action(recs[0], "1.2", "police", -60, 30)
    action(recs[1], "2.1", "council", -20, 60)  # Did not exist before day -20.
    health, police_editor = users.headers("editor", "health"), users.headers("editor", "police")
    updates = (
        (
            nurse,
            health,
            {"effective_date": day(-50), "status": "in_progress", "rag": "amber", "progress": "Advertised"},
        ),
        (nurse, health, {"effective_date": day(-5), "status": "completed", "rag": "blue", "progress": "Nurse in post"}),
        (police, police_editor, {"effective_date": day(-45), "status": "in_progress", "rag": "green"}),
    )
    for action_id, headers, body in updates:
        post(f"/api/v1/actions/{action_id}/updates", body, headers)
    before_late_report = datetime.now(UTC)
    late = {"effective_date": day(-40), "rag": "red", "progress": "Late report: the referral audit found gaps"}
    post(f"/api/v1/actions/{police}/updates", late, police_editor)
    return Story(plan_id, today, before_late_report)


def accord_status(database_url: str, *args: str, columns: int | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCORD_") and k != "COLUMNS"}
    env |= {"ACCORD_DATABASE_URL": database_url, "ACCORD_DEMO": "no"}
    if columns:
        env["COLUMNS"] = str(columns)
    return subprocess.run([ACCORD, "status", *args], env=env, capture_output=True, text=True, check=False, timeout=60)


def row(output: str, number: str) -> str | None:
    """The table row of action `number`, or None when it is not in the table."""
    rows = [line for line in output.splitlines() if re.match(rf"^\s+{re.escape(number)}\s", line)]
    assert len(rows) <= 1, rows
    return rows[0] if rows else None


def shows(line: str | None, *cells: str, overdue: bool) -> bool:
    """Whether an action's row shows these cells (lead, status, RAG, due date), and the OVERDUE marker or not."""
    marker = r"\s+OVERDUE\s" if overdue else r"(?!\s+OVERDUE)"
    pattern = r"^\s+\S+\s+" + r"\s+".join(re.escape(cell) for cell in cells) + marker
    return line is not None and re.match(pattern, line) is not None


@backends
def test_the_plan_as_it_stood_on_two_dates_as_known_then_and_now(database_url: str, story: Story) -> None:
    # Thirty days ago, as known before the late report: 1.2 green, 2.1 not yet raised.
    then = accord_status(
        database_url,
        "--plan",
        story.plan_id,
        "--as-at",
        story.day(-30),
        "--known-at",
        story.before_late_report.isoformat(),
    )
    assert then.returncode == 0, then.stderr
    lines = then.stdout.splitlines()
    assert lines[0] == "Safeguarding Action Plan, 22 March 2011"
    assert lines[1].startswith(f"As at {story.day(-30)}, as known at ")
    assert shows(row(then.stdout, "1.1"), "health", "in progress", "amber", story.day(-10), overdue=False)
    assert shows(row(then.stdout, "1.2"), "police", "in progress", "green", story.day(30), overdue=False)
    assert row(then.stdout, "2.1") is None
    assert "(no actions as at this date)" in then.stdout
    assert f"Summary as at {story.day(-30)}: 2 actions, 0 overdue" in then.stdout
    assert "by status: not started 0, in progress 2, completed 0, withdrawn 0" in then.stdout
    assert "Advertised" in row(then.stdout, "1.1")  # type: ignore[operator]

    # The same day as known now: the late report (effective day -40) turned 1.2 red.
    known_now = accord_status(database_url, "--plan", story.plan_id, "--as-at", story.day(-30))
    assert known_now.returncode == 0, known_now.stderr
    assert shows(row(known_now.stdout, "1.2"), "police", "in progress", "red", story.day(30), overdue=False)
    assert "Late report: the referral audit" in row(known_now.stdout, "1.2")  # type: ignore[operator]

    # A week ago 1.1 was past its due date and not yet complete; today it is complete, and 2.1 is there.
    week_ago = accord_status(database_url, "--plan", story.plan_id, "--as-at", story.day(-7))
    assert shows(row(week_ago.stdout, "1.1"), "health", "in progress", "amber", story.day(-10), overdue=True)
    assert "3 actions, 1 overdue" in week_ago.stdout
    today = accord_status(database_url, "--plan", story.plan_id)
    assert today.returncode == 0, today.stderr
    assert shows(row(today.stdout, "1.1"), "health", "completed", "blue", story.day(-10), overdue=False)
    assert shows(row(today.stdout, "2.1"), "council", "not started", "-", story.day(60), overdue=False)
    assert f"Summary as at {story.today.isoformat()}: 3 actions, 0 overdue" in today.stdout
    assert "by RAG:    red 1, amber 0, green 0, blue 1, unrated 1" in today.stdout
    assert today.stderr == ""
    # A bare date for --known-at is the end of that day in the deployment's time zone.
    end_of_today = accord_status(database_url, "--plan", story.plan_id, "--known-at", story.today.isoformat())
    assert end_of_today.stdout.splitlines()[2:] == today.stdout.splitlines()[2:]


@backends
def test_the_table_fits_the_terminal(database_url: str, story: Story) -> None:
    """COLUMNS (the terminal's width) is followed between 80 and 120; without a terminal, 100."""
    for columns, width in ((None, 100), (80, 80), (200, 120), (40, 80), (110, 110)):
        result = accord_status(database_url, "--plan", story.plan_id, columns=columns)
        assert result.returncode == 0, result.stderr
        assert max(len(line) for line in result.stdout.splitlines()) == width, columns


@backends
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--as-at", "18 September 2013"], "--as-at: expected a date YYYY-MM-DD"),
        (["--as-at", "2026-02-30"], "--as-at: expected a date YYYY-MM-DD"),
        (["--known-at", "2026-11-25T14:03:00"], "--known-at: an instant needs its offset"),
        (["--known-at", "yesterday"], "--known-at: expected an instant"),
    ],
)
def test_bad_dates_exit_2_with_a_clear_message(database_url: str, story: Story, args: list[str], message: str) -> None:
    result = accord_status(database_url, "--plan", story.plan_id, *args)
    assert (result.returncode, result.stdout) == (2, "")
    assert message in result.stderr


@backends
def test_unknown_plans_exit_2_with_a_clear_message(database_url: str, story: Story) -> None:
    unknown = str(uuid4())
    result = accord_status(database_url, "--plan", unknown)
    assert (result.returncode, result.stdout, result.stderr.strip()) == (2, "", f"accord: no plan {unknown}")
    result = accord_status(database_url, "--plan", "PCT-42")
    assert (result.returncode, result.stdout) == (2, "")
    assert "accord: no plan's title starts with 'PCT-42': see `accord plans list`" in result.stderr
    result = accord_status(database_url, "--plan", "2")
    assert (result.returncode, result.stderr.strip()) == (2, "accord: no plan number 2: `accord plans list` shows 1")
    result = accord_status(database_url)
    assert result.returncode == 2 and "--plan" in result.stderr
    # Before the plan was recorded (the end of yesterday), it was not known.
    yesterday = (story.today - timedelta(days=1)).isoformat()
    result = accord_status(database_url, "--plan", story.plan_id, "--known-at", yesterday)
    assert (result.returncode, result.stdout) == (2, "")
    assert f"accord: plan {story.plan_id} was not yet recorded at {yesterday} 23:59:59" in result.stderr


@backends
def test_a_lagging_view_is_said_on_stderr(database_url: str, story: Story) -> None:
    """Written without the projections running (as when no worker is up): the table says what it knows."""
    offline = bootstrap(Settings(database_url=database_url, load_demo=False), in_process=False)
    try:
        offline.app.add_user(name="New board member", agency="lscb", role="reader")
    finally:
        offline.close()
    result = accord_status(database_url, "--plan", story.plan_id)
    assert result.returncode == 0, result.stderr
    assert "the time-travel view is 1 event(s) behind the store" in result.stderr
    assert row(result.stdout, "1.1") is not None


@backends
def test_a_plan_is_found_by_its_number_in_plans_list_or_the_start_of_its_title(
    database_url: str, story: Story, client: Any, users: Any
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCORD_")}
    env |= {"ACCORD_DATABASE_URL": database_url, "ACCORD_DEMO": "no"}
    listed = subprocess.run([ACCORD, "plans", "list"], env=env, capture_output=True, text=True, check=True, timeout=60)
    assert listed.stdout.splitlines()[1].split(maxsplit=3) == [
        "1",
        story.plan_id,
        "lscb",
        "Safeguarding Action Plan, 22 March 2011",
    ]
    known = ("--known-at", story.day(0))
    by_id = accord_status(database_url, "--plan", story.plan_id, *known).stdout
    assert by_id.startswith("Safeguarding Action Plan, 22 March 2011\n")
    for given in ("1", "safeguarding action", "  Safeguarding Action Plan, 22 March 2011 "):
        assert accord_status(database_url, "--plan", given, *known).stdout == by_id, given
    second = {"title": "Safeguarding Action Plan, 2012 review", "source": "s", "owner_agency": "lscb"}
    assert client.post("/api/v1/plans", json=second, headers=users.headers("coordinator")).status_code == 201
    result = accord_status(database_url, "--plan", "Safeguarding")
    assert (result.returncode, result.stderr.strip()) == (
        2,
        "accord: 2 plans' titles start with 'Safeguarding' (numbers 1, 2): say which",
    )
    assert "2012 review" in accord_status(database_url, "--plan", "2").stdout


def test_help_documents_dates_and_instants_and_says_each_once() -> None:
    result = subprocess.run([ACCORD, "status", "--help"], capture_output=True, text=True, check=True, timeout=60)
    text = " ".join(result.stdout.split())
    assert "END of that day in ACCORD_TIMEZONE" in text
    assert "2026-11-25T14:03:00+00:00" in text
    for option in ("--plan", "--as-at", "--known-at"):
        assert len(re.findall(rf"^\s+{option} [A-Z]+\s", result.stdout, re.MULTILINE)) == 1, result.stdout


def test_users_add_refuses_a_blank_name_and_documents_every_option(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCORD_")}
    env |= {"ACCORD_DATABASE_URL": f"sqlite:///{tmp_path / 'accord.db'}", "ACCORD_DEMO": "no"}
    for name in ("", "   "):
        command = [ACCORD, "users", "add", "--name", name, "--agency", "health", "--role", "editor"]
        result = subprocess.run(command, env=env, capture_output=True, text=True, check=False, timeout=60)
        assert (result.returncode, result.stdout, result.stderr.strip()) == (2, "", "accord: a user needs a name")
    listed = subprocess.run([ACCORD, "users", "list"], env=env, capture_output=True, text=True, check=True, timeout=60)
    assert listed.stdout.splitlines()[1:] == []
    helped = subprocess.run([ACCORD, "users", "add", "--help"], capture_output=True, text=True, check=True)
    options = re.findall(r"^  (--\w+)(.*)$", helped.stdout, re.MULTILINE)
    assert [name for name, _ in options] == ["--name", "--agency", "--role"]
    assert "coordinator:" in helped.stdout and "ACCORD_AGENCIES" in helped.stdout
