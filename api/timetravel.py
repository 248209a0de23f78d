"""Time travel: a whole plan as it stood on a date, as known then or now, and what changed between reports."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validates_schema

from api import get_system
from api.access_log import logged
from api.schemas import LAST_DAY, STRICT_QUERY, UP_TO_LAST_DAY, LastUpdateOut, Strict, SummaryOut, in_calendar, iso_date
from domain.errors import NotFound
from projections.rollups import summarise

blp = Blueprint("timetravel", __name__, url_prefix="/api/v1", description="History and time travel")
SHOWN = ("status", "rag", "due_date", "due_label", "lead_agency", "lead_person", "last_update")


def day_field(description: str, **kwargs: Any) -> fields.Date:
    return fields.Date(
        validate=UP_TO_LAST_DAY,
        metadata={"description": f"{description}; at most {LAST_DAY.isoformat()}"},
        **kwargs,
    )


class AsAtQuery(Strict):
    as_at = day_field("valid time: the day to see (default today)", load_default=None)
    known_at = fields.AwareDateTime(
        load_default=None,
        validate=in_calendar,
        metadata={
            "description": "knowledge time: only what was recorded by then (default now); its UTC day at most"
            f" {LAST_DAY.isoformat()}"
        },
    )


class ChangesQuery(Strict):
    from_ = day_field("the earlier report date", required=True, data_key="from")
    to = day_field("the later report date", required=True)

    @validates_schema
    def ordered(self, data: dict[str, Any], **_: Any) -> None:
        if data["from_"] > data["to"]:
            raise ValidationError("must not be after `to`", field_name="from")


class ActionAsAtOut(Schema):
    id = fields.UUID()
    number = fields.String()
    recommendation_id = fields.UUID()
    status = fields.String()
    rag = fields.String(allow_none=True)
    due_date = iso_date(allow_none=True)
    due_label = fields.String(allow_none=True)
    overdue = fields.Boolean()
    lead_agency = fields.String()
    lead_person = fields.String(allow_none=True)
    contributing_agencies = fields.List(fields.String())
    last_update = fields.Nested(LastUpdateOut, allow_none=True)


class RecommendationAsAtOut(Schema):
    id = fields.UUID()
    number = fields.String()
    text = fields.String()
    actions = fields.List(fields.Nested(ActionAsAtOut))


class PlanStatusOut(Schema):
    plan_id = fields.UUID()
    as_at = iso_date()
    known_at = fields.String(metadata={"format": "date-time"})
    summary = fields.Nested(SummaryOut)
    recommendations = fields.List(fields.Nested(RecommendationAsAtOut))


class PlanChangeOut(Schema):
    action_id = fields.UUID()
    number = fields.String()
    recommendation_id = fields.UUID()
    lead_agency = fields.String()
    new = fields.Boolean(metadata={"description": "the action appeared between the two dates"})
    changes = fields.Dict(keys=fields.String(), values=fields.Dict())
    updates = fields.List(fields.Dict(), metadata={"description": "updates that took effect in (from, to]"})


class ChangesOut(Schema):
    plan_id = fields.UUID()
    from_ = iso_date(data_key="from")
    to = iso_date()
    items = fields.List(fields.Nested(PlanChangeOut))


def moments(query: dict[str, Any]) -> tuple[date, datetime]:
    """(as_at, known_at) with their defaults: today, now."""
    app = get_system().app
    as_at, known_at = query.get("as_at") or app.today(), query.get("known_at") or app.clock()
    return as_at, known_at.astimezone(UTC)


def plan_at(plan_id: UUID, as_at: date, known_at: datetime) -> dict[str, Any]:
    view = get_system().projections.view("temporal")
    status = view.plan_status(str(plan_id), as_at, known_at)
    if status is None:
        raise NotFound("no such plan (as known then)")
    actions = [a for r in status["recommendations"] for a in r["actions"]]
    status["summary"] = summarise(({**a, "n": 1} for a in actions), as_at)
    return status


@blp.route("/plans/<uuid:plan_id>/status")
class PlanStatus(MethodView):
    @blp.arguments(AsAtQuery, **STRICT_QUERY)
    @blp.response(200, PlanStatusOut)
    @logged("plan_status")
    def get(self, query: dict[str, Any], plan_id: UUID) -> Any:
        """The whole plan as it stood on `as_at`, as known at `known_at`."""
        return plan_at(plan_id, *moments(query))


@blp.route("/plans/<uuid:plan_id>/changes")
class PlanChanges(MethodView):
    @blp.arguments(ChangesQuery, **STRICT_QUERY)
    @blp.response(200, ChangesOut)
    @logged("plan_changes")
    def get(self, query: dict[str, Any], plan_id: UUID) -> Any:
        """Per action, what changed between two dates (as known now): for a committee's "since the last report"."""
        start, end = query["from_"], query["to"]
        now = get_system().app.clock().astimezone(UTC)
        before = {a["id"]: a for r in plan_at(plan_id, start, now)["recommendations"] for a in r["actions"]}
        after = [a for r in plan_at(plan_id, end, now)["recommendations"] for a in r["actions"]]
        facts = get_system().projections.view("temporal").facts_of(str(plan_id))
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
        return {"plan_id": plan_id, "from_": start.isoformat(), "to": end.isoformat(), "items": items}


def action_at(action_id: UUID, query: dict[str, Any]) -> dict[str, Any]:
    as_at, known_at = moments(query)
    action = get_system().projections.view("temporal").action_status(str(action_id), as_at, known_at)
    if action is None:
        raise NotFound("no such action (as at that date, as known then)")
    return {**action, "as_at": as_at.isoformat(), "known_at": known_at.isoformat()}
