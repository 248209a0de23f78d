"""Rollups: how many actions of a plan, a recommendation or a lead agency stand at each status and RAG,
and how many are overdue today."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask.views import MethodView
from flask_smorest import Blueprint

from api import get_system
from api.schemas import SummaryOut
from domain.errors import NotFound
from projections.rollups import AGENCY, PLAN, RECOMMENDATION

blp = Blueprint(
    "rollups",
    __name__,
    url_prefix="/api/v1/rollups",
    description="Counts of actions by status, RAG and overdue (as at today), for any role to read",
)


def rollup(scope: str, scope_id: str) -> dict[str, Any]:
    system = get_system()
    view = system.projections.view("rollups")
    if scope == AGENCY:
        if scope_id not in system.settings.agencies:
            raise NotFound("no such agency")
    elif not view.known(scope, scope_id):
        raise NotFound(f"no such {scope}")
    summary: dict[str, Any] = view.summary(scope, scope_id, system.app.today())
    return summary


@blp.route("/plans/<uuid:plan_id>")
class PlanRollup(MethodView):
    @blp.response(200, SummaryOut)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, plan_id: UUID) -> Any:
        """Every action of the plan, counted by status and RAG; overdue as at today."""
        return rollup(PLAN, str(plan_id))


@blp.route("/recommendations/<uuid:recommendation_id>")
class RecommendationRollup(MethodView):
    @blp.response(200, SummaryOut)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, recommendation_id: UUID) -> Any:
        """Every action raised for the recommendation, counted by status and RAG; overdue as at today."""
        return rollup(RECOMMENDATION, str(recommendation_id))


@blp.route("/agencies/<agency>")
class AgencyRollup(MethodView):
    @blp.response(200, SummaryOut)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, agency: str) -> Any:
        """Every action the agency leads, across plans, counted by status and RAG; overdue as at today."""
        return rollup(AGENCY, agency)
