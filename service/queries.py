"""Queries over the read models that the API and the pages both answer: plain data in, plain data out.

Each takes the bootstrapped `System`, so neither door re-implements what the other asks.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from domain.errors import NotFound
from domain.timeline import CLOSED
from projections.rollups import PLAN, summarise

if TYPE_CHECKING:
    from service.bootstrap import System

SHOWN = ("status", "rag", "due_date", "due_label", "lead_agency", "lead_person", "last_update")
DUE_SOON_DAYS = 30
QUIET_DAYS = 90  # "No recent update" until committee dates are recorded: then, none since the last committee.


def plan_summaries(system: System, plan_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Each plan's counts by status, RAG and overdue (as at today), from the rollups view."""
    summaries: dict[str, dict[str, Any]] = system.projections.view("rollups").summaries(
        PLAN, system.app.today(), ids=plan_ids
    )
    return summaries


def plans_with_summaries(system: System) -> list[dict[str, Any]]:
    plans: list[dict[str, Any]] = system.current.list_plans(system.app.today())
    summaries = plan_summaries(system, [plan["id"] for plan in plans])
    return [{**plan, "summary": summaries[plan["id"]]} for plan in plans]


def current_plan(system: System, plan_id: str) -> dict[str, Any]:
    plan: dict[str, Any] | None = system.current.get_plan(plan_id, system.app.today())
    if plan is None:
        raise NotFound("no such plan")
    return plan


def moments(system: System, as_at: date | None, known_at: datetime | None) -> tuple[date, datetime]:
    """(as_at, known_at) with their defaults: today, now."""
    return as_at or system.app.today(), (known_at or system.app.clock()).astimezone(UTC)


def plan_at(system: System, plan_id: str, as_at: date, known_at: datetime) -> dict[str, Any]:
    """The whole plan as it stood on `as_at` as known at `known_at`, with its summary then."""
    status: dict[str, Any] | None = system.projections.view("temporal").plan_status(plan_id, as_at, known_at)
    if status is None:
        raise NotFound("no such plan (as known then)")
    actions = [a for r in status["recommendations"] for a in r["actions"]]
    status["summary"] = summarise(({**a, "n": 1} for a in actions), as_at)
    return status


def plan_changes(system: System, plan_id: str, start: date, end: date) -> list[dict[str, Any]]:
    """Per action, what changed between two dates (as known now): for a committee's "since the last report"."""
    now = system.app.clock().astimezone(UTC)
    before = {a["id"]: a for r in plan_at(system, plan_id, start, now)["recommendations"] for a in r["actions"]}
    after = [a for r in plan_at(system, plan_id, end, now)["recommendations"] for a in r["actions"]]
    facts = system.projections.view("temporal").facts_of(plan_id)
    items = []
    for action in after:
        old = before.get(action["id"])
        changes = {
            f: {"from": old[f] if old else None, "to": action[f]}
            for f in SHOWN
            if (old[f] if old else None) != action[f]
        }
        updates = [
            {"id": f.update_id, "effective_date": f.effective_date.isoformat(), "text": f.values.get("progress")}
            for f in sorted(facts.get(action["id"], []), key=lambda f: (f.effective_date, f.seq))
            if f.kind == "update" and not f.retracted and start < f.effective_date <= end
        ]
        if changes or updates or old is None:
            items.append(
                {
                    "action_id": action["id"],
                    "number": action["number"],
                    "recommendation_id": action["recommendation_id"],
                    "lead_agency": action["lead_agency"],
                    "new": old is None,
                    "changes": changes,
                    "updates": updates,
                }
            )
    return items


def action_at(system: System, action_id: str, as_at: date, known_at: datetime) -> dict[str, Any]:
    action = system.projections.view("temporal").action_status(action_id, as_at, known_at)
    if action is None:
        raise NotFound("no such action (as at that date, as known then)")
    return {**action, "as_at": as_at.isoformat(), "known_at": known_at.isoformat()}


def current_action(system: System, action_id: str) -> dict[str, Any]:
    action: dict[str, Any] | None = system.current.get_action(action_id, system.app.today())
    if action is None:
        raise NotFound("no such action")
    return action


def action_by_number(system: System, plan_id: str, number: str) -> str:
    """The id of the plan's action numbered `number` (as the plan's document numbers it, e.g. "2.2")."""
    for recommendation in current_plan(system, plan_id)["recommendations"]:
        for action in recommendation["actions"]:
            if action["number"] == number:
                return str(action["id"])
    raise NotFound(f"no action numbered {number} in this plan")


def filter_actions(
    actions: list[dict[str, Any]],
    *,
    agency: str | None = None,
    status: str | None = None,
    rag: str | None = None,
    overdue: bool | None = None,
) -> list[dict[str, Any]]:
    """The actions led by `agency`, with `status`, rated `rag`, (not) overdue: each filter only when given."""
    return [
        a
        for a in actions
        if (agency is None or a["lead_agency"] == agency)
        and (status is None or a["status"] == status)
        and (rag is None or a["rag"] == rag)
        and (overdue is None or a["overdue"] == overdue)
    ]


def needing_attention(system: System, agency: str) -> list[dict[str, Any]]:
    """The agency's open actions that need it: overdue, due within 30 days, or no update for 90 days; each with
    the reasons why, most pressing first."""
    today = system.app.today()
    found = []
    for action in system.current.agency_actions(agency, today):
        if action["status"] in CLOSED:
            continue
        reasons = []
        due = date.fromisoformat(action["due_date"]) if action["due_date"] else None
        if action["overdue"]:
            reasons.append("overdue")
        elif due is not None and due <= today + timedelta(days=DUE_SOON_DAYS):
            reasons.append("due_soon")
        last = action["last_update"]
        if last is None or date.fromisoformat(last["effective_date"]) < today - timedelta(days=QUIET_DAYS):
            reasons.append("quiet")
        if reasons:
            found.append({**action, "reasons": reasons})
    return sorted(found, key=lambda a: ("overdue" not in a["reasons"], a["due_date"] or "9999", a["number"]))
