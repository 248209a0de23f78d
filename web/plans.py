"""Home, the plans, the plan board (filters, and the plan as reported to a committee), changes between dates."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from flask import Blueprint, g, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from api import get_system
from domain.errors import NotFound
from domain.principals import EDITOR
from service import queries
from web.access import needs_purpose, record_read
from web.auth import me, page_errors
from web.filters import agency as agency_name
from web.forms import AsAtForm, ChangesForm, FilterForm

bp = Blueprint("web_plans", __name__)
page_errors(bp)


@bp.route("/")
def home() -> str:
    system = get_system()
    principal = me()
    attention = queries.needing_attention(system, principal.agency) if principal.role == EDITOR else None
    return render_template(
        "home.html",
        title="Home",
        attention=attention,
        plans=queries.plans_with_summaries(system),
        quiet_days=queries.QUIET_DAYS,
        due_soon_days=queries.DUE_SOON_DAYS,
    )


@bp.route("/plans")
def plans() -> str:
    return render_template("plans.html", title="Plans", plans=queries.plans_with_summaries(get_system()))


def end_of_day(day: date) -> datetime:
    """What was known by the end of a committee day (the application's rule), in UTC for the page's address."""
    return get_system().app.end_of_day(day).astimezone(UTC)


def parse_moments(args: MultiDict[str, str]) -> tuple[date | None, datetime | None]:
    """`as_at` and `known_at` as the API takes them (a date; an ISO instant with an offset); NotFound if malformed."""
    try:
        as_at = date.fromisoformat(args["as_at"]) if args.get("as_at") else None
        known_at = datetime.fromisoformat(args["known_at"]) if args.get("known_at") else None
    except ValueError:
        raise NotFound("as_at must be a date such as 2026-09-18 and known_at an instant with an offset") from None
    if known_at is not None and known_at.tzinfo is None:
        raise NotFound("known_at needs an offset, such as +00:00")
    return as_at, known_at


def board_filters(args: MultiDict[str, str], agencies: tuple[str, ...]) -> tuple[FilterForm, dict[str, Any]]:
    form = FilterForm(args)
    form.agency.choices = [("", "Any"), *((a, agency_name(a)) for a in agencies)]
    overdue = {"true": True, "false": False}.get(args.get("overdue", ""))
    chosen = {
        "agency": args.get("agency") or None,
        "status": args.get("status") or None,
        "rag": args.get("rag") or None,
        "overdue": overdue,
    }
    return form, chosen


@bp.route("/plans/<uuid:plan_id>")
def board(plan_id: UUID) -> Any:
    system = get_system()
    as_at_form = AsAtForm(request.args) if "committee_date" in request.args else AsAtForm()
    if "committee_date" in request.args and as_at_form.validate():
        day = as_at_form.committee_date.data
        known = end_of_day(day).isoformat() if as_at_form.known.data == "then" else None
        return redirect(url_for("web_plans.board", plan_id=plan_id, as_at=day.isoformat(), known_at=known))
    as_at, known_at = parse_moments(request.args)
    past = as_at is not None or known_at is not None
    if past and "committee_date" not in request.args:  # The chooser shows the date being looked at.
        as_at_form.committee_date.data = as_at
        as_at_form.known.data = "then" if known_at else "now"
    if past and (refused := needs_purpose()):
        return refused
    form, chosen = board_filters(request.args, system.settings.agencies)
    plan = queries.current_plan(system, str(plan_id))
    stood = None
    if past:
        moments = queries.moments(system, as_at, known_at)
        try:
            stood = queries.plan_at(system, str(plan_id), *moments)
        except NotFound:
            stood = {"unknown": True, "as_at": moments[0].isoformat(), "known_at": moments[1].isoformat()}
        else:
            record_read("plan_status", plan_id=plan_id)
    recommendations = stood["recommendations"] if stood and not stood.get("unknown") else plan["recommendations"]
    shown = [{**r, "actions": queries.filter_actions(r["actions"], **chosen)} for r in recommendations]
    descriptions = {a["id"]: a["description"] for r in plan["recommendations"] for a in r["actions"]}
    return render_template(
        "board.html",
        title=plan["title"],
        plan=plan,
        recommendations=shown,
        descriptions=descriptions,
        form=form,
        filtered=any(v is not None for v in chosen.values()),
        as_at_form=as_at_form,
        stood=stood,
        count=sum(len(r["actions"]) for r in shown),
    )


@bp.route("/plans/<uuid:plan_id>/changes")
def changes(plan_id: UUID) -> Any:
    system = get_system()
    plan = queries.current_plan(system, str(plan_id))
    form = ChangesForm(request.args) if "start" in request.args else ChangesForm()
    if "start" in request.args and form.validate():
        return redirect(
            url_for("web_plans.changes", plan_id=plan_id, **{"from": form.start.data.isoformat(), "to": form.end.data})
        )
    items, start, end = None, request.args.get("from"), request.args.get("to")
    if start and end:
        try:
            first, last = date.fromisoformat(start), date.fromisoformat(end)
        except ValueError:
            raise NotFound("from and to must be dates such as 2026-09-18") from None
        if first > last:
            form.start.errors = ["The first date must be on or before the last"]
        else:
            if refused := needs_purpose():
                return refused
            items = queries.plan_changes(system, str(plan_id), first, last)
            record_read("plan_changes", plan_id=plan_id)
            g.changes_between = (first, last)
    numbers = {a["id"]: a for r in plan["recommendations"] for a in r["actions"]}
    return render_template(
        "changes.html", title="What changed", plan=plan, form=form, items=items, actions=numbers, start=start, end=end
    )


@bp.route("/plans/<uuid:plan_id>/actions/<path:number>")
def action_by_number(plan_id: UUID, number: str) -> Response:
    """Actions are found by the plan's own numbers too: /plans/<id>/actions/2.2."""
    action_id = queries.action_by_number(get_system(), str(plan_id), number)
    return redirect(url_for("web_actions.action", action_id=action_id))
