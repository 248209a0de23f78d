"""An action's audit trail, and retracting an update entered in error (it stays in the trail, marked)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask import url_for
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate

from api import get_system
from api.access_log import logged
from api.auth import principal
from api.plans import created
from api.schemas import STRICT_QUERY, PageQuery, Strict, WrittenOut, page
from api.text import Text
from domain.errors import NotFound
from projections.history import RETRACTION_FIELDS, TYPES, retraction_id

blp = Blueprint("history", __name__, url_prefix="/api/v1", description="Action history and retractions")


def not_blank(value: str) -> None:
    if not value.strip():
        raise ValidationError("must not be blank")


# In.


class RetractionIn(Strict):
    reason = Text(
        required=True,
        validate=[validate.Length(min=1, max=2000), not_blank],
        metadata={"description": "why the update is treated as entered in error"},
    )


# Out.


class ActorOut(Schema):
    name = fields.String()
    agency = fields.String()
    role = fields.String()
    on_behalf_of = fields.String(metadata={"description": "the agency a coordinator recorded this for (imports)"})


class ChangeOut(Schema):
    from_ = fields.Raw(
        attribute="from",
        data_key="from",
        allow_none=True,
        metadata={"description": "the action's current value just before the change was recorded"},
    )
    to = fields.Raw(allow_none=True, metadata={"description": "the value the change reported"})


class EvidenceOut(Schema):
    title = fields.String()
    url = fields.String(allow_none=True)


class RetractedOut(Schema):
    at = fields.String(metadata={"format": "date-time", "description": "when the retraction was recorded"})
    by = fields.Nested(ActorOut)
    reason = fields.String()


class HistoryItemOut(Schema):
    id = fields.UUID(metadata={"description": "an update's or lead assignment's id; the action's id for its creation"})
    seq = fields.Integer(metadata={"description": "the action's version at the item's first event: recorded order"})
    type = fields.String(validate=validate.OneOf(TYPES))
    recorded_at = fields.String(metadata={"format": "date-time"})
    effective_date = fields.String(
        allow_none=True,
        metadata={
            "format": "date",
            "description": "when the reported fact took effect; for a retraction, the retracted update's",
        },
    )
    actor = fields.Nested(ActorOut)
    changes = fields.Dict(
        keys=fields.String(validate=validate.OneOf(RETRACTION_FIELDS)),
        values=fields.Nested(ChangeOut),
        metadata={"description": "per field: from the value just before, to the value reported (or left)"},
    )
    text = fields.String(
        allow_none=True, metadata={"description": "an update's progress text; the description of a creation"}
    )
    reason = fields.String(metadata={"description": "given with a reopening, a due-date change or a retraction"})
    impact = fields.String()
    evidence = fields.List(fields.Nested(EvidenceOut))
    retracts = fields.UUID(metadata={"description": "on a retraction: the update it retracted"})
    retracted = fields.Nested(RetractedOut, metadata={"description": "present on an update later retracted"})


class HistoryOut(Schema):
    items = fields.List(fields.Nested(HistoryItemOut))
    next_offset = fields.Integer(allow_none=True, metadata={"description": "offset of the next page; null on the last"})


def history_view() -> Any:
    return get_system().projections.view("history")


@blp.route("/actions/<uuid:action_id>/history")
class History(MethodView):
    @blp.arguments(PageQuery, **STRICT_QUERY)
    @blp.response(200, HistoryOut)
    @logged("history")
    def get(self, query: dict[str, Any], action_id: UUID) -> Any:
        """Every recorded change to the action, in the order recorded, retracted updates included."""
        items = history_view().history(str(action_id))
        if items is None:
            raise NotFound("no such action")
        return page(items, query)


@blp.route("/actions/<uuid:action_id>/updates/<uuid:update_id>/retractions")
class Retractions(MethodView):
    @blp.arguments(RetractionIn)
    @blp.response(201, WrittenOut)
    def post(self, body: dict[str, Any], action_id: UUID, update_id: UUID) -> Any:
        """Treat an update as entered in error from now on (the update's own agency or a coordinator).

        The new resource is the retraction: its `id` is the retraction's item in the action's history.
        """
        written = get_system().app.retract_update(principal(), action_id, update_id, reason=body["reason"])
        retraction = {"id": retraction_id(update_id, written.version), "version": written.version}
        return created({**retraction, "position": written.position}, url_for("history.History", action_id=action_id))
