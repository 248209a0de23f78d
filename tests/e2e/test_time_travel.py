"""Time travel as a new user would try it: Portsmouth's plan, updated in recorded batches over two months.

A coordinator loads the plan; one month's updates arrive (batch 1); the committee meets; more updates
come in (batch 2); then late reports that took effect earlier than batch 2 (batch 3); then
retractions (batch 4). After each, we keep what `GET /plans/{id}` and `GET /actions/{id}` showed and
the instant we saw it. At the end, every `as_at=<that day>&known_at=<that instant>` must give back
exactly what was shown then, and the "as known now" views must follow the contract's semantics.

Accord's clock (what "today" and "now" are, and the instant each event is stamped with) is ours to move: its
days lie a week or more from now, and it ticks a millisecond at each reading, so every event has its own instant;
the knowledge-time cut points are its readings between batches.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from api import create_app
from service.bootstrap import System, bootstrap
from service.settings import Settings
from tests.builders import assert_problem, fresh_schema
from tests.conftest import BACKENDS

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "portsmouth-2010.json"
LOADED = date.today() + timedelta(days=7)  # The day the coordinator loads the plan ("day 0").
D1, REPORT, D2, D3, D4 = 30, 44, 60, 70, 76  # Batch 1, the committee, batches 2, 3 and 4 (days after loading).
COMPARED = ("number", "recommendation_id", "lead_agency", "status", "rag", "due_date", "overdue", "last_update")
ACTION_COMPARED = (*COMPARED, "due_label", "lead_person", "contributing_agencies", "plan_id", "description")
PLAN = json.loads(FIXTURE.read_text())
FIXTURE_ACTIONS = {a["number"]: a for r in PLAN["recommendations"] for a in r["actions"]}


def day(n: int) -> date:
    return LOADED + timedelta(days=n)


def iso(n: int) -> str:
    return day(n).isoformat()


def fixture_update(number: str, index: int) -> dict[str, Any]:
    """The plan's own words for one of its updates: progress, status, RAG, impact, evidence."""
    update = FIXTURE_ACTIONS[number]["updates"][index]
    return {k: update[k] for k in ("progress", "status", "rag", "impact", "evidence") if update[k] not in (None, [])}


class Clock:
    """Accord's idea of now: noon (UTC) on the scenario's current day, a millisecond later at each reading."""

    def __init__(self) -> None:
        self.today = LOADED
        self.ticks = 0

    def __call__(self) -> datetime:
        self.ticks += 1
        return datetime.combine(self.today, time(12), tzinfo=UTC) + timedelta(milliseconds=self.ticks)

    def move_to(self, n: int) -> None:
        assert day(n) >= self.today, "the scenario only moves forward"
        self.today = day(n)


@dataclass
class Seen:
    """What the API showed on one day, and the real instant just after (no write in between)."""

    day: date
    known_at: datetime
    plan: dict[str, Any]
    actions: dict[str, dict[str, Any]]


@dataclass
class Scenario:
    client: Any
    clock: Clock
    system: System
    tokens: dict[str, str] = field(default_factory=dict)
    plan_id: str = ""
    recommendations: dict[str, str] = field(default_factory=dict)
    actions: dict[str, str] = field(default_factory=dict)  # Action number -> id.
    updates: dict[str, str] = field(default_factory=dict)  # Our label -> update id.

    def headers(self, role: str, agency: str = "lscb") -> dict[str, str]:
        key = f"{role}:{agency}"
        if key not in self.tokens:
            self.tokens[key] = self.system.app.add_user(name=f"{role} of {agency}", agency=agency, role=role)[1]
        return {"Authorization": f"Bearer {self.tokens[key]}"}

    @property
    def coordinator(self) -> dict[str, str]:
        return self.headers("coordinator")

    def get(self, path: str, headers: dict[str, str] | None = None, **query: Any) -> dict[str, Any]:
        response = self.client.get(path, headers=headers or self.headers("reader"), query_string=query)
        assert response.status_code == 200, (path, query, response.get_data(as_text=True))
        return response.json

    def post(self, path: str, body: dict[str, Any], headers: dict[str, str]) -> str:
        response = self.client.post(path, json=body, headers=headers)
        assert response.status_code == 201, (path, body, response.json)
        return response.json["id"]

    # Writing, as the coordinator and the partner agencies do.

    def load_plan(self) -> None:
        self.plan_id = self.post("/api/v1/plans", PLAN["plan"], self.coordinator)
        for rec in PLAN["recommendations"]:
            body = {k: v for k, v in rec.items() if k != "actions"}
            rec_id = self.post(f"/api/v1/plans/{self.plan_id}/recommendations", body, self.coordinator)
            self.recommendations[rec["number"]] = rec_id
            for action in rec["actions"]:
                offset = action["due_offset_days"]
                self.raise_action(
                    rec["number"],
                    **{
                        k: v
                        for k, v in action.items()
                        if k not in ("updates", "start_offset_days", "due_offset_days", "cost")
                    },
                    effective_date=iso(-14),  # Agreed at the panel's meeting, two weeks before it is loaded.
                    # Those the plan had as already due fall due between batch 1 and the committee.
                    due_date=None if offset is None else iso(40 if offset < 0 else 120),
                )

    def raise_action(self, recommendation: str, **body: Any) -> str:
        body = {"recommendation_id": self.recommendations[recommendation], **body}
        action_id = self.post(f"/api/v1/plans/{self.plan_id}/actions", body, self.coordinator)
        self.actions[body["number"]] = action_id
        return action_id

    def update(self, number: str, effective: int, by: str | None = None, label: str = "", **body: Any) -> str:
        """An update from the action's lead agency (or the agency `by`) that took effect on day `effective`."""
        agency = by or FIXTURE_ACTIONS[number]["lead_agency"]
        update_id = self.post(
            f"/api/v1/actions/{self.actions[number]}/updates",
            {**body, "effective_date": iso(effective)},
            self.headers("editor", agency),
        )
        self.updates[label or f"{number}@{effective}"] = update_id
        return update_id

    def retract(self, number: str, label: str, reason: str, headers: dict[str, str]) -> None:
        self.post(
            f"/api/v1/actions/{self.actions[number]}/updates/{self.updates[label]}/retractions",
            {"reason": reason},
            headers,
        )

    # Reading.

    def see(self) -> Seen:
        board = self.headers("reader", "council")  # A board member, reading the plan on the day.
        plan = self.get(f"/api/v1/plans/{self.plan_id}", board)
        actions = {
            a["id"]: self.get(f"/api/v1/actions/{a['id']}", board)
            for rec in plan["recommendations"]
            for a in rec["actions"]
        }
        return Seen(self.clock.today, self.clock(), plan, actions)

    def status(self, as_at: int | date, known_at: datetime | None = None, **kw: Any) -> dict[str, Any]:
        query = {"as_at": iso(as_at) if isinstance(as_at, int) else as_at.isoformat(), **kw}
        if known_at is not None:
            query["known_at"] = known_at.isoformat()
        return self.get(f"/api/v1/plans/{self.plan_id}/status", self.headers("inspector"), **query)

    def action(self, number: str, as_at: int, known_at: datetime | None = None) -> dict[str, Any]:
        query = {"as_at": iso(as_at)} | ({"known_at": known_at.isoformat()} if known_at else {})
        return self.get(f"/api/v1/actions/{self.actions[number]}", self.headers("inspector"), **query)

    def actions_in(self, status: dict[str, Any]) -> dict[str, dict[str, Any]]:
        """Action number -> the action, from a plan or a plan status."""
        return {a["number"]: a for rec in status["recommendations"] for a in rec["actions"]}


@pytest.fixture(scope="module", params=BACKENDS)
def story_database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One store per backend for the module (as conftest's `database_url`): the story is played once, then read."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('time-travel') / 'accord.db'}"
        return
    with fresh_schema(request.getfixturevalue("postgres_database")) as url:
        yield url


@pytest.fixture(scope="module")
def scenario(story_database_url: str) -> Iterator[Scenario]:
    clock = Clock()
    system = bootstrap(Settings(database_url=story_database_url, load_demo=False), clock=clock)
    try:
        yield Scenario(create_app(system=system).test_client(), clock, system)
    finally:
        system.close()


def text(number: str, index: int) -> str:
    return str(FIXTURE_ACTIONS[number]["updates"][index]["progress"])


LATE_51 = "Two of the backfilled posts fell vacant again when the agency contracts ended."
LATE_61 = "Graduate trainee scheme review completed and signed off by the Recruitment and Retention board."
LATE_71 = "Funding decision for the early intervention post deferred to the next budget round."
DONE_91 = "Children Missing Education and NEET databases linked; S2S checks now run weekly."
RIGHT_131 = "Parenting programme places for the spring term allocated; waiting list reviewed monthly."
WRONG_131 = "Withdrawn: replaced by the refreshed Parenting Strategy."


def batch_1(s: Scenario) -> None:
    """The first month's updates, each posted within days of taking effect."""
    s.update("1.1", 5, **fixture_update("1.1", 0))
    s.update("2.1", 3, **fixture_update("2.1", 0))
    s.update("2.1", 20, by="education", label="2.1 education", **fixture_update("2.1", 1))
    s.update("4.1", 2, **fixture_update("4.1", 0))
    s.update("4.1", 25, **fixture_update("4.1", 1))  # Completed.
    s.update("5.1", 10, **fixture_update("5.1", 0))
    s.update("6.1", 12, **fixture_update("6.1", 0))
    s.update("7.1", 8, **fixture_update("7.1", 0))
    s.update("9.1", 1, **fixture_update("9.1", 0))
    s.update("9.1", 28, by="police", **fixture_update("9.1", 1))
    s.update("11.1", 4, **fixture_update("11.1", 0))
    s.update("12.1", 18, **fixture_update("12.1", 0))
    s.update("12.2", 15, **fixture_update("12.2", 0))
    s.update("13.1", 9, **fixture_update("13.1", 0))
    s.update("14.1", 6, **fixture_update("14.1", 0))  # Completed.


def batch_2(s: Scenario) -> None:
    """More updates, two new actions (one back-dated to before the committee) and a mistake."""
    s.update("2.1", 52, due_date=iso(120), due_label="March 2011", reason="Regional chapters delayed", rag="amber")
    s.update("3.1", 48, **fixture_update("3.1", 0))
    s.update("5.1", 50, label="5.1 green", **fixture_update("5.1", 1))
    s.update("7.1", 58, **fixture_update("7.1", 1))
    s.update("1.1", 57, **fixture_update("1.1", 1))
    s.update("12.2", 54, **fixture_update("12.2", 1))  # Progress only.
    s.update("9.1", 55, **fixture_update("9.1", 2))
    s.update("9.1", 59, label="9.1 done", status="completed", rag="blue", progress=DONE_91)
    s.update("8.1", 60, due_date=iso(58), due_label="Before the inspection", reason="Brought forward")  # No text.
    s.update("13.1", 33, by="health", **fixture_update("13.1", 1))  # Took effect before the committee met.
    s.update("13.1", 56, label="13.1 right", progress=RIGHT_131, rag="amber")
    s.update("13.1", 56, label="13.1 wrong", progress=WRONG_131, status="withdrawn")  # Same day: a mistake.
    s.raise_action(
        "8",
        number="8.2",
        description="Kinship carers' support group set up with the Family Information Service.",
        lead_agency="council",
        due_date=iso(150),
        effective_date=iso(40),  # Agreed before the committee met; recorded only now.
    )
    s.raise_action("13", number="13.2", description="Antenatal parenting sessions offered", lead_agency="health")


def batch_3(s: Scenario) -> None:
    """Late reports, taking effect before (some of) batch 2 and even before the committee met."""
    s.update("5.1", 45, label="5.1 late", rag="red", progress=LATE_51)
    s.update("6.1", 42, status="completed", rag="blue", progress=LATE_61)
    s.update("3.2", 20, **fixture_update("3.2", 0))
    s.update("10.1", 35, **fixture_update("10.1", 0))
    s.update("7.1", 56, rag="red", progress=LATE_71)
    s.update("2.2", 65, **fixture_update("2.2", 0))


def batch_4(s: Scenario) -> None:
    """Retractions, by the update's own agency or a coordinator, whatever the action's status."""
    education = s.headers("editor", "education")
    s.retract("9.1", "9.1 done", "Reported too early: the weekly checks have not started.", education)
    s.retract("5.1", "5.1 green", "The vacancy figures were for the wrong team.", s.coordinator)
    s.retract("13.1", "13.1 wrong", "Posted against the wrong action.", s.headers("editor", "council"))
    s.retract("2.1", "2.1 education", "Duplicate of the schools' guidance report.", education)


def play(s: Scenario) -> dict[str, Seen]:
    """The whole story; returns what the API showed at each cut point, by name."""
    s.load_plan()
    seen = {"loaded": s.see()}
    for name, when, batch in (
        ("batch 1", D1, batch_1),
        ("committee", REPORT, None),  # The committee meets: this is what it was shown.
        ("batch 2", D2, batch_2),
        ("batch 3", D3, batch_3),
        ("batch 4", D4, batch_4),
    ):
        s.clock.move_to(when)
        if batch:
            batch(s)
        seen[name] = s.see()
    return seen


@pytest.fixture(scope="module")
def played(scenario: Scenario) -> dict[str, Seen]:
    return play(scenario)


def picked(action: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    return {name: action[name] for name in names}


def test_every_day_as_then_known_reproduces_what_was_shown_that_day(
    scenario: Scenario, played: dict[str, Seen]
) -> None:
    s = scenario
    all_actions = set(s.actions.values())
    for name, seen in played.items():
        status = s.status(seen.day, seen.known_at)
        assert (status["plan_id"], status["as_at"]) == (s.plan_id, seen.day.isoformat()), name
        assert datetime.fromisoformat(status["known_at"]) == seen.known_at, name
        assert status["summary"] == seen.plan["summary"], name
        shown = [
            (rec["id"], rec["number"], rec["text"], [picked(a, ("id", *COMPARED)) for a in rec["actions"]])
            for rec in status["recommendations"]
        ]
        then = [
            (rec["id"], rec["number"], rec["text"], [picked(a, ("id", *COMPARED)) for a in rec["actions"]])
            for rec in seen.plan["recommendations"]
        ]
        assert shown == then, name
        for action_id, action in seen.actions.items():
            got = s.get(f"/api/v1/actions/{action_id}", as_at=seen.day.isoformat(), known_at=seen.known_at.isoformat())
            assert picked(got, ("id", *ACTION_COMPARED)) == picked(action, ("id", *ACTION_COMPARED)), name
            assert (got["as_at"], "version" in got) == (seen.day.isoformat(), False)
        for action_id in all_actions - set(seen.actions):  # Raised later: not there yet.
            response = s.client.get(
                f"/api/v1/actions/{action_id}",
                query_string={"as_at": seen.day.isoformat(), "known_at": seen.known_at.isoformat()},
                headers=s.headers("reader"),
            )
            assert_problem(response, 404)
    # Without as_at or known_at: today, as known now, is the current state.
    now = s.get(f"/api/v1/plans/{s.plan_id}/status")
    assert now["as_at"] == day(D4).isoformat()
    current = s.actions_in(played["batch 4"].plan)
    assert {n: picked(a, COMPARED) for n, a in s.actions_in(now).items()} == {
        n: picked(a, COMPARED) for n, a in current.items()
    }


def test_updates_apply_in_effective_then_recorded_order(scenario: Scenario, played: dict[str, Seen]) -> None:
    s, k2, k3 = scenario, played["batch 2"].known_at, played["batch 3"].known_at
    # 5.1: a late red report (day 45) is overridden by the green update that took effect after it (day 50)...
    assert picked(s.action("5.1", D3, k3), ("rag", "last_update")) == {
        "rag": "green",
        "last_update": {"text": text("5.1", 1), "effective_date": iso(50)},
    }
    # ...but is what stood between the two days; before it was known, batch 1's amber stood there.
    assert picked(s.action("5.1", 47, k3), ("rag", "last_update")) == {
        "rag": "red",
        "last_update": {"text": LATE_51, "effective_date": iso(45)},
    }
    assert picked(s.action("5.1", 47, k2), ("rag", "last_update")) == {
        "rag": "amber",
        "last_update": {"text": text("5.1", 0), "effective_date": iso(10)},
    }
    # 7.1: the late red (day 56) sits under the amber of day 58, recorded before it.
    assert s.action("7.1", D3)["rag"] == "amber"
    assert s.action("7.1", 57)["rag"] == "red"
    assert s.action("7.1", 57, k2)["rag"] == "green"
    # 13.1: two updates on the same day apply in the order recorded: the later one wins.
    assert picked(s.action("13.1", 56, k3), ("status", "rag", "last_update")) == {
        "status": "withdrawn",
        "rag": "amber",
        "last_update": {"text": WRONG_131, "effective_date": iso(56)},
    }
    # 3.2: a report that took effect before batch 1 changes batch 1's day only as known after it came in.
    assert s.action("3.2", D1, played["batch 1"].known_at)["status"] == "not_started"
    assert s.action("3.2", D1)["status"] == "in_progress"


def test_what_the_committee_was_shown_and_what_we_now_know_about_that_day(
    scenario: Scenario, played: dict[str, Seen]
) -> None:
    s, committee = scenario, played["committee"]
    then = s.status(REPORT, committee.known_at)
    known_now = s.status(REPORT)
    assert then["summary"]["overdue"] == 4 and known_now["summary"]["overdue"] == 3
    then_actions, now_actions = s.actions_in(then), s.actions_in(known_now)
    assert {n for n, a in then_actions.items() if a["overdue"]} == {"2.1", "3.1", "5.1", "6.1"}
    # 6.1 was completed before the committee met, but that was only reported later.
    assert picked(then_actions["6.1"], ("status", "rag", "overdue")) == {
        "status": "in_progress",
        "rag": "amber",
        "overdue": True,
    }
    assert picked(now_actions["6.1"], ("status", "rag", "overdue", "last_update")) == {
        "status": "completed",
        "rag": "blue",
        "overdue": False,
        "last_update": {"text": LATE_61, "effective_date": iso(42)},
    }
    # Actions appear once they took effect and were recorded: 8.2 (from day 40, recorded in batch 2) is
    # there on the committee's day only as known now; 13.2 (from day 60) not at all.
    assert "8.2" not in then_actions and "13.2" not in then_actions
    assert now_actions["8.2"]["status"] == "not_started" and "13.2" not in now_actions
    assert "8.2" not in s.actions_in(s.status(39))
    assert then["summary"]["total"] == 17 and known_now["summary"]["total"] == 18
    for as_at, known_at in ((REPORT, None), (59, None), (D2, played["batch 1"].known_at)):
        query = {"as_at": iso(as_at)} | ({"known_at": known_at.isoformat()} if known_at else {})
        response = s.client.get(f"/api/v1/actions/{s.actions['13.2']}", query_string=query, headers=s.coordinator)
        assert_problem(response, 404)
    assert s.action("13.2", D2, played["batch 2"].known_at)["status"] == "not_started"
    # Before any action had started, the plan is there with its recommendations and nothing else.
    empty = s.status(-15)
    assert empty["summary"]["total"] == 0 and len(empty["recommendations"]) == 14
    assert all(rec["actions"] == [] for rec in empty["recommendations"])


def test_overdue_is_as_at_the_date(scenario: Scenario, played: dict[str, Seen]) -> None:
    s = scenario
    # 8.1's due date was brought forward to day 58 by a revision that took effect on day 60.
    assert picked(s.action("8.1", 59), ("due_date", "overdue")) == {"due_date": iso(120), "overdue": False}
    assert picked(s.action("8.1", D2), ("due_date", "overdue", "due_label")) == {
        "due_date": iso(58),
        "overdue": True,
        "due_label": "Before the inspection",
    }
    # 3.1 fell due on day 40: overdue from day 41 until (and after) it started, never before.
    assert [s.action("3.1", n)["overdue"] for n in (40, 41, 47, 48, D4)] == [False, True, True, True, True]
    # Completed or withdrawn actions are never overdue.
    assert [s.action("4.1", n)["overdue"] for n in (24, 25, 41)] == [False, False, False]
    assert s.action("4.1", 24)["status"] == "in_progress" and s.action("4.1", 25)["status"] == "completed"


def test_last_update_is_the_last_applied_update_that_carried_progress(
    scenario: Scenario, played: dict[str, Seen]
) -> None:
    s = scenario
    # 8.1's only update revised its due date with no text: no last_update.
    assert s.action("8.1", D4)["last_update"] is None
    # 2.1's due-date revision (day 52) carried no text: the lead's words of day 3 still stand (education's of
    # day 20, retracted since, no longer count).
    assert s.action("2.1", 52)["last_update"] == {"text": text("2.1", 0), "effective_date": iso(3)}
    # 12.2's progress-only update is its last update.
    assert s.action("12.2", D4)["last_update"] == {"text": text("12.2", 1), "effective_date": iso(54)}


def test_retractions_stay_in_history_and_count_until_recorded(scenario: Scenario, played: dict[str, Seen]) -> None:
    s, k3, k4 = scenario, played["batch 3"].known_at, played["batch 4"].known_at
    # Known before the retraction, the update counts; from the moment it is recorded, it does not.
    assert picked(s.action("9.1", D4, k3), ("status", "rag")) == {"status": "completed", "rag": "blue"}
    assert picked(s.action("9.1", D4, k4), ("status", "rag", "last_update")) == {
        "status": "in_progress",
        "rag": "green",
        "last_update": {"text": text("9.1", 2), "effective_date": iso(55)},
    }
    # With the green update of day 50 retracted, 5.1's late red report is what stands.
    assert picked(s.action("5.1", D4), ("rag", "last_update")) == {
        "rag": "red",
        "last_update": {"text": LATE_51, "effective_date": iso(45)},
    }
    assert s.action("5.1", D4, k3)["rag"] == "green"
    # The mistaken withdrawal of 13.1, on the same day as a right update: only the right one remains.
    assert picked(s.action("13.1", D4), ("status", "rag", "last_update")) == {
        "status": "in_progress",
        "rag": "amber",
        "last_update": {"text": RIGHT_131, "effective_date": iso(56)},
    }
    assert s.action("13.1", D4, k3)["status"] == "withdrawn"
    # Education's retracted note on 2.1 (day 20) still shows on day 30 as known before it was retracted.
    assert s.action("2.1", D1, k3)["last_update"] == {"text": text("2.1", 1), "effective_date": iso(20)}
    assert s.action("2.1", D1)["last_update"] == {"text": text("2.1", 0), "effective_date": iso(3)}
    # Every retracted update stays in the action's history, marked: when, by whom, why.
    items = s.get(f"/api/v1/actions/{s.actions['9.1']}/history", s.headers("inspector"))["items"]
    done = next(i for i in items if i["id"] == s.updates["9.1 done"])
    assert done["text"] == DONE_91 and done["changes"]["status"]["to"] == "completed"
    assert done["retracted"]["reason"] == "Reported too early: the weekly checks have not started."
    assert done["retracted"]["by"]["agency"] == "education"
    assert k3 < datetime.fromisoformat(done["retracted"]["at"]) <= k4
    assert sum(1 for i in items if i.get("retracted")) == 1
    for number, label in (("5.1", "5.1 green"), ("13.1", "13.1 wrong"), ("2.1", "2.1 education")):
        items = s.get(f"/api/v1/actions/{s.actions[number]}/history")["items"]
        assert [i["id"] for i in items if i.get("retracted")] == [s.updates[label]], number


def test_changes_between_two_report_dates(scenario: Scenario, played: dict[str, Seen]) -> None:
    s = scenario

    def changes(start: int, end: int) -> dict[str, dict[str, Any]]:
        body = s.get(f"/api/v1/plans/{s.plan_id}/changes", **{"from": iso(start), "to": iso(end)})
        assert (body["plan_id"], body["from"], body["to"]) == (s.plan_id, iso(start), iso(end))
        items = {s_number(s, i["action_id"]): i for i in body["items"]}
        assert len(items) == len(body["items"])
        return items

    # From the first month's report to the committee, as known now.
    first = changes(D1, REPORT)
    assert set(first) == {"6.1", "8.2", "10.1", "13.1"}
    assert first["8.2"]["new"] is True and first["8.2"]["updates"] == []
    assert first["6.1"]["new"] is False
    assert first["6.1"]["changes"]["status"] == {"from": "in_progress", "to": "completed"}
    assert first["6.1"]["changes"]["rag"] == {"from": "amber", "to": "blue"}
    assert [u["text"] for u in first["6.1"]["updates"]] == [LATE_61]
    assert first["10.1"]["changes"]["status"] == {"from": "not_started", "to": "in_progress"}
    assert set(first["13.1"]["changes"]) == {"last_update"}
    assert first["13.1"]["changes"]["last_update"]["to"] == {"text": text("13.1", 1), "effective_date": iso(33)}

    # From the committee to the next report: retracted updates are not among what took effect.
    second = changes(REPORT, D4)
    assert set(second) == {"1.1", "2.1", "2.2", "3.1", "5.1", "7.1", "8.1", "9.1", "12.2", "13.1", "13.2"}
    assert second["13.2"]["new"] is True
    assert second["5.1"]["changes"]["rag"] == {"from": "amber", "to": "red"}
    assert [(u["id"], u["effective_date"]) for u in second["5.1"]["updates"]] == [(s.updates["5.1 late"], iso(45))]
    assert second["9.1"]["changes"] == {
        "last_update": {
            "from": {"text": text("9.1", 1), "effective_date": iso(28)},
            "to": {"text": text("9.1", 2), "effective_date": iso(55)},
        }
    }
    assert [u["effective_date"] for u in second["9.1"]["updates"]] == [iso(55)]
    assert second["8.1"]["changes"]["due_date"] == {"from": iso(120), "to": iso(58)}
    assert [u["text"] for u in second["8.1"]["updates"]] == [None]
    assert second["2.1"]["changes"]["due_date"] == {"from": iso(40), "to": iso(120)}
    assert second["3.1"]["changes"]["status"] == {"from": "not_started", "to": "in_progress"}
    assert [u["effective_date"] for u in second["13.1"]["updates"]] == [iso(56)]
    assert second["13.1"]["changes"]["rag"] == {"from": "green", "to": "amber"}
    assert "status" not in second["13.1"]["changes"]
    assert [u["effective_date"] for u in second["7.1"]["updates"]] == [iso(56), iso(58)]


def s_number(s: Scenario, action_id: str) -> str:
    return next(n for n, a in s.actions.items() if a == action_id)


def test_bad_inputs_are_422_problems_and_unknown_ids_404(scenario: Scenario, played: dict[str, Seen]) -> None:
    s, headers = scenario, scenario.coordinator
    plan = f"/api/v1/plans/{s.plan_id}"
    action = f"/api/v1/actions/{s.actions['1.1']}"
    for path in (f"{plan}/status", action):
        assert_problem(s.client.get(path, query_string={"as_at": "18 September"}, headers=headers), 422, "as_at")
        assert_problem(s.client.get(path, query_string={"as_at": "2026-02-30"}, headers=headers), 422, "as_at")
        for naive in ("2026-11-25T14:03:00", "2026-11-25"):
            response = s.client.get(path, query_string={"known_at": naive}, headers=headers)
            assert_problem(response, 422, "known_at")
        assert_problem(s.client.get(path, query_string={"when": iso(1)}, headers=headers), 422)
    changes = f"{plan}/changes"
    assert_problem(s.client.get(changes, query_string={"from": iso(D4), "to": iso(D1)}, headers=headers), 422, "from")
    assert_problem(s.client.get(changes, query_string={"to": iso(D1)}, headers=headers), 422, "from")
    assert_problem(s.client.get(changes, query_string={"from": "soon", "to": iso(D1)}, headers=headers), 422, "from")
    for path in (f"/api/v1/plans/{uuid4()}/status", f"/api/v1/plans/{uuid4()}/changes?from={iso(1)}&to={iso(2)}"):
        assert_problem(s.client.get(path, headers=headers), 404)
    assert_problem(s.client.get(f"/api/v1/actions/{uuid4()}", query_string={"as_at": iso(1)}, headers=headers), 404)
    # Before the plan was recorded, it was not known.
    before = played["loaded"].known_at - timedelta(hours=1)
    response = s.client.get(f"{plan}/status", query_string={"known_at": before.isoformat()}, headers=headers)
    assert_problem(response, 404)
    assert s.client.get(f"{plan}/status").status_code == 401


@pytest.mark.parametrize(
    ("role", "agency"), [("coordinator", "lscb"), ("editor", "police"), ("inspector", "lscb"), ("reader", "lscb")]
)
def test_every_role_may_read_time_travel(scenario: Scenario, played: dict[str, Seen], role: str, agency: str) -> None:
    s, headers = scenario, scenario.headers(role, agency)
    known_at = played["committee"].known_at.isoformat()
    for path, query in (
        (f"/api/v1/plans/{s.plan_id}/status", {"as_at": iso(REPORT), "known_at": known_at}),
        (f"/api/v1/actions/{s.actions['6.1']}", {"as_at": iso(REPORT), "known_at": known_at}),
        (f"/api/v1/plans/{s.plan_id}/changes", {"from": iso(D1), "to": iso(REPORT)}),
    ):
        assert s.get(path, headers, **query) == s.get(path, s.coordinator, **query)
