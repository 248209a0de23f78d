"""Actions: their current state, the updates partner agencies post, lead assignments, agency work lists."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask import request, url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from api import get_system
from api.access_log import logged, time_travelling
from api.auth import principal
from api.idempotency import idempotent, new_id
from api.plans import created
from api.schemas import STRICT_QUERY, ActionListOut, ActionOut, AgencyActionsQuery, LeadIn, UpdateIn, WrittenOut, page
from api.timetravel import AsAtQuery, action_at
from domain.errors import NotFound, RuleViolated

blp = Blueprint("actions", __name__, url_prefix="/api/v1", description="Actions and partner updates")


def expected_version() -> int | None:
    """`If-Match: "<version>"` (RFC 9110): a stale version fails with 412 and writes nothing."""
    header = request.headers.get("If-Match")
    if not header:
        return None
    try:
        return int(header.strip().removeprefix("W/").strip('"'))
    except ValueError:
        raise RuleViolated('If-Match must be the quoted version from the ETag, e.g. "3"', field="If-Match") from None


@blp.route("/actions/<uuid:action_id>")
class Action(MethodView):
    @blp.arguments(AsAtQuery, **STRICT_QUERY)
    @blp.response(
        200, ActionOut, headers={"ETag": {"description": "the action's version", "schema": {"type": "string"}}}
    )
    @logged("action_as_at", when=time_travelling)
    def get(self, query: dict[str, Any], action_id: UUID) -> Any:
        """The action's current state; with `as_at` or `known_at`, as it stood then (no ETag)."""
        if query["as_at"] or query["known_at"]:
            return action_at(action_id, query)
        system = get_system()
        action = system.current.get_action(str(action_id), system.app.today())
        if action is None:
            raise NotFound("no such action")
        return action, {"ETag": f'"{action["version"]}"'}


IF_MATCH = {
    "in": "header",
    "name": "If-Match",
    "description": 'The quoted version from the action\'s ETag, e.g. "3": when the action has moved on, 412 and'
    " nothing is written.",
    "schema": {"type": "string", "pattern": '^(W/)?"?[0-9]{1,18}"?$'},
}


@blp.route("/actions/<uuid:action_id>/updates")
class Updates(MethodView):
    @blp.arguments(UpdateIn)
    @blp.response(201, WrittenOut)
    @blp.alt_response(412, response="PRECONDITION_FAILED")
    @blp.doc(parameters=[IF_MATCH])
    @idempotent(derives_id=True)
    def post(self, body: dict[str, Any], action_id: UUID) -> Any:
        written = get_system().app.post_update(
            principal(), action_id, expected_version=expected_version(), update_id=new_id(), **body
        )
        return created(written, url_for("actions.Action", action_id=action_id))


@blp.route("/actions/<uuid:action_id>/lead")
class Lead(MethodView):
    @blp.arguments(LeadIn)
    @blp.response(201, WrittenOut)
    @idempotent(derives_id=True)
    def post(self, body: dict[str, Any], action_id: UUID) -> Any:
        """Assign the action's lead agency and person (coordinator)."""
        written = get_system().app.assign_lead(principal(), action_id, assignment_id=new_id(), **body)
        return created(written, url_for("actions.Action", action_id=action_id))


@blp.route("/agencies/<agency>/actions")
class AgencyActions(MethodView):
    @blp.arguments(AgencyActionsQuery, **STRICT_QUERY)
    @blp.response(200, ActionListOut)
    def get(self, query: dict[str, Any], agency: str) -> Any:
        system = get_system()
        if agency not in system.settings.agencies:
            raise NotFound("no such agency")
        found = system.current.agency_actions(
            agency, system.app.today(), status=query["status"], overdue=query["overdue"]
        )
        return page(found, query)
