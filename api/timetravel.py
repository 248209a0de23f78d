"""Time travel: a whole plan as it stood on a date, as known then or now, and what changed between reports."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validates_schema

from api import get_system
from api.access_log import logged
from api.schemas import LAST_DAY, STRICT_QUERY, UP_TO_LAST_DAY, LastUpdateOut, Strict, SummaryOut, in_calendar, iso_date
from service import queries

blp = Blueprint("timetravel", __name__, url_prefix="/api/v1", description="History and time travel")


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
    return queries.moments(get_system(), query.get("as_at"), query.get("known_at"))


def plan_at(plan_id: UUID, as_at: date, known_at: datetime) -> dict[str, Any]:
    return queries.plan_at(get_system(), str(plan_id), as_at, known_at)


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
        items = queries.plan_changes(get_system(), str(plan_id), start, end)
        return {"plan_id": plan_id, "from_": start.isoformat(), "to": end.isoformat(), "items": items}


def action_at(action_id: UUID, query: dict[str, Any]) -> dict[str, Any]:
    return queries.action_at(get_system(), str(action_id), *moments(query))
