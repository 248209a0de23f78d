"""A plan's committee and board meetings, and the chase list for the next one."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask import url_for
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from api import get_system
from api.auth import principal
from api.idempotency import new_id
from api.plans import created, plan_or_404
from api.schemas import SHORT, STRICT_QUERY, UP_TO_LAST_DAY, PageQuery, Strict, WrittenOut, iso_date, page
from api.text import Text
from domain.errors import NotFound
from service.cycles import meetings_with_chase_list

blp = Blueprint("meetings", __name__, url_prefix="/api/v1/plans", description="Meetings and the chase list")


class MeetingIn(Strict):
    date = fields.Date(
        required=True, validate=UP_TO_LAST_DAY, metadata={"description": "the day the committee or board meets"}
    )
    title = Text(required=True, validate=SHORT)
    updates_due = fields.Date(
        required=True, validate=UP_TO_LAST_DAY, metadata={"description": "partners' updates wanted by (<= date)"}
    )


class ChasedActionOut(Schema):
    id = fields.String()
    number = fields.String()
    description = fields.String()
    due_date = iso_date(allow_none=True)
    due_label = fields.String(allow_none=True)


class ChaseOut(Schema):
    agency = fields.String()
    count = fields.Integer(metadata={"description": "open actions with no update since the previous meeting"})
    actions = fields.List(fields.Nested(ChasedActionOut))


class MeetingOut(Schema):
    id = fields.String()
    plan_id = fields.String()
    date = iso_date()
    title = fields.String()
    updates_due = iso_date()
    next = fields.Boolean(metadata={"description": "the first meeting on or after today"})
    chase_list = fields.List(fields.Nested(ChaseOut), allow_none=True, metadata={"description": "next one only"})


class MeetingListOut(Schema):
    items = fields.List(fields.Nested(MeetingOut))
    next_offset = fields.Integer(allow_none=True)


@blp.route("/<uuid:plan_id>/meetings")
class PlanMeetings(MethodView):
    @blp.arguments(PageQuery, **STRICT_QUERY)
    @blp.response(200, MeetingListOut)
    def get(self, query: dict[str, Any], plan_id: UUID) -> Any:
        plan_or_404(plan_id)
        system = get_system()
        items = meetings_with_chase_list(system.projections, str(plan_id), system.app.today(), system.app.zone)
        return page(items, query)

    @blp.arguments(MeetingIn)
    @blp.response(201, WrittenOut)
    def post(self, body: dict[str, Any], plan_id: UUID) -> Any:
        written = get_system().app.schedule_meeting(
            principal(), plan_id, meeting_date=body.pop("date"), meeting_id=new_id(), **body
        )
        return created(written, url_for("meetings.PlanMeeting", plan_id=plan_id, meeting_id=written.id))


@blp.route("/<uuid:plan_id>/meetings/<uuid:meeting_id>")
class PlanMeeting(MethodView):
    @blp.response(200, MeetingOut)
    def get(self, plan_id: UUID, meeting_id: UUID) -> Any:
        plan_or_404(plan_id)
        system = get_system()
        for meeting in meetings_with_chase_list(system.projections, str(plan_id), system.app.today(), system.app.zone):
            if meeting["id"] == str(meeting_id):
                return meeting
        raise NotFound("no such meeting of this plan")
