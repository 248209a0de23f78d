"""Reporting cycles, read from the read models: each plan's meetings, the previous and next one on a date, and
the chase list (per lead agency, the open actions with no update recorded since the previous meeting).

Queries only: they take ids and dates and return plain data for the API, the pages, reports and reminders.
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from typing import Any

from domain.timeline import CLOSED


def meetings(projections: Any, plan_id: str) -> list[dict[str, Any]]:
    """The plan's meetings in date order: id, plan_id, date, title, updates_due (ISO dates)."""
    found: list[dict[str, Any]] = projections.view("meetings").meetings(plan_id)
    return found


def previous_meeting(projections: Any, plan_id: str, on: date) -> dict[str, Any] | None:
    """The plan's last meeting before `on` (a report's default `since` is its date), or None."""
    before = [m for m in meetings(projections, plan_id) if m["date"] < on.isoformat()]
    return before[-1] if before else None


def next_meeting(projections: Any, plan_id: str, on: date) -> dict[str, Any] | None:
    """The plan's first meeting on or after `on`, or None."""
    return next((m for m in meetings(projections, plan_id) if m["date"] >= on.isoformat()), None)


def chase_list(projections: Any, plan_id: str, on: date, zone: tzinfo) -> list[dict[str, Any]]:
    """Per lead agency of the plan's open actions (by agency): `count` of those with no update recorded since the
    previous meeting's day (or, with no previous meeting, ever), and those `actions` (id, number, description,
    due_date, due_label). An agency that is up to date has count 0."""
    plan = projections.view("current_status").get_plan(plan_id, on)
    if plan is None:
        return []
    open_actions = [a for r in plan["recommendations"] for a in r["actions"] if a["status"] not in CLOSED]
    previous = previous_meeting(projections, plan_id, on)
    since = date.fromisoformat(previous["date"]) if previous else None
    last = projections.view("history").last_updates_recorded([a["id"] for a in open_actions])
    agencies: dict[str, list[dict[str, Any]]] = {a["lead_agency"]: [] for a in open_actions}
    for action in open_actions:
        recorded = last.get(action["id"])
        if recorded is None or (since is not None and datetime.fromisoformat(recorded).astimezone(zone).date() < since):
            shown = ("id", "number", "description", "due_date", "due_label")
            agencies[action["lead_agency"]].append({name: action[name] for name in shown})
    return [{"agency": agency, "count": len(behind), "actions": behind} for agency, behind in sorted(agencies.items())]


def meetings_with_chase_list(projections: Any, plan_id: str, on: date, zone: tzinfo) -> list[dict[str, Any]]:
    """The plan's meetings; the next one (on or after `on`) carries `next: true` and its chase list."""
    upcoming = next_meeting(projections, plan_id, on)
    return [
        {
            **meeting,
            "next": meeting == upcoming,
            "chase_list": chase_list(projections, plan_id, on, zone) if meeting == upcoming else None,
        }
        for meeting in meetings(projections, plan_id)
    ]
