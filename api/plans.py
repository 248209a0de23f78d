"""Plans, their recommendations and the actions raised under them."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask import url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from api import get_system
from api.auth import principal
from api.idempotency import new_id
from api.schemas import (
    STRICT_QUERY,
    ActionIn,
    PageQuery,
    PlanIn,
    PlanListOut,
    PlanOut,
    RecommendationIn,
    RecommendationOut,
    WrittenOut,
    page,
)
from domain.errors import NotFound
from service import queries

blp = Blueprint("plans", __name__, url_prefix="/api/v1/plans", description="Action plans")


def created(written: Any, location: str) -> tuple[Any, int, dict[str, str]]:
    return written, 201, {"Location": location}


def plan_or_404(plan_id: UUID) -> dict[str, Any]:
    return queries.current_plan(get_system(), str(plan_id))


def plan_summaries(plan_ids: list[str]) -> dict[str, dict[str, Any]]:
    return queries.plan_summaries(get_system(), plan_ids)


@blp.route("")
class Plans(MethodView):
    @blp.arguments(PageQuery, **STRICT_QUERY)
    @blp.response(200, PlanListOut)
    def get(self, query: dict[str, Any]) -> Any:
        system = get_system()
        shown = page(system.current.list_plans(system.app.today()), query)
        summaries = plan_summaries([plan["id"] for plan in shown["items"]])
        return {**shown, "items": [{**plan, "summary": summaries[plan["id"]]} for plan in shown["items"]]}

    @blp.arguments(PlanIn)
    @blp.response(201, WrittenOut)
    def post(self, body: dict[str, Any]) -> Any:
        written = get_system().app.create_plan(principal(), **body)
        return created(written, url_for("plans.Plan", plan_id=written.id))


@blp.route("/<uuid:plan_id>")
class Plan(MethodView):
    @blp.response(200, PlanOut)
    def get(self, plan_id: UUID) -> Any:
        plan = plan_or_404(plan_id)
        return {**plan, "summary": plan_summaries([plan["id"]])[plan["id"]]}


@blp.route("/<uuid:plan_id>/recommendations")
class Recommendations(MethodView):
    @blp.arguments(RecommendationIn)
    @blp.response(201, WrittenOut)
    def post(self, body: dict[str, Any], plan_id: UUID) -> Any:
        written = get_system().app.add_recommendation(principal(), plan_id, recommendation_id=new_id(), **body)
        return created(written, url_for("plans.Recommendation", plan_id=plan_id, recommendation_id=written.id))


@blp.route("/<uuid:plan_id>/recommendations/<uuid:recommendation_id>")
class Recommendation(MethodView):
    @blp.response(200, RecommendationOut)
    def get(self, plan_id: UUID, recommendation_id: UUID) -> Any:
        for recommendation in plan_or_404(plan_id)["recommendations"]:
            if recommendation["id"] == str(recommendation_id):
                return recommendation
        raise NotFound("no such recommendation in this plan")


@blp.route("/<uuid:plan_id>/actions")
class PlanActions(MethodView):
    @blp.arguments(ActionIn)
    @blp.response(201, WrittenOut)
    def post(self, body: dict[str, Any], plan_id: UUID) -> Any:
        written = get_system().app.raise_action(principal(), plan_id, **body)
        return created(written, url_for("actions.Action", action_id=written.id))
