"""A plan and its recommendations: what an inspection or review asked for."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from domain.clock import StampedAggregate
from domain.errors import NotFound, RuleViolated
from domain.principals import Principal

RECOMMENDATION, STATUTORY_REQUIREMENT = "recommendation", "statutory_requirement"
KINDS = (RECOMMENDATION, STATUTORY_REQUIREMENT)


class Plan(StampedAggregate):
    """An action plan owned jointly by a safeguarding partnership."""

    @event("Created")
    def __init__(self, *, title: str, source: str, owner_agency: str, actor: dict[str, Any]) -> None:
        self.title = title
        self.source = source
        self.owner_agency = owner_agency
        self.recommendation_ids: list[UUID] = []
        self.meeting_ids: list[UUID] = []

    def add_recommendation(  # noqa: PLR0913
        self,
        *,
        actor: Principal,
        recommendation_id: UUID,
        number: str,
        text: str,
        timescale: str,
        kind: str,
        reference: str | None,
        outcomes: list[str],
        measures: list[str],
    ) -> None:
        actor.check_may_manage_plans()
        self.record_recommendation(
            recommendation_id=recommendation_id,
            number=number,
            text=text,
            timescale=timescale,
            kind=kind,
            reference=reference,
            outcomes=outcomes,
            measures=measures,
            actor=actor.as_actor(),
        )

    def check_has_recommendation(self, recommendation_id: UUID) -> None:
        if recommendation_id not in self.recommendation_ids:
            raise NotFound("no such recommendation in this plan", field="recommendation_id")

    @event("RecommendationAdded")
    def record_recommendation(  # noqa: PLR0913
        self,
        *,
        recommendation_id: UUID,
        number: str,
        text: str,
        timescale: str,
        kind: str,
        reference: str | None,
        outcomes: list[str],
        measures: list[str],
        actor: dict[str, Any],
    ) -> None:
        self.recommendation_ids.append(recommendation_id)

    # Meetings: the committees and boards that receive the plan's position.

    def schedule_meeting(
        self, *, actor: Principal, meeting_id: UUID, meeting_date: date, title: str, updates_due: date
    ) -> None:
        actor.check_may_manage_plans()
        self.check_updates_due_by_meeting(meeting_date, updates_due)
        self.record_meeting(
            meeting_id=meeting_id,
            meeting_date=meeting_date,
            title=title,
            updates_due=updates_due,
            actor=actor.as_actor(),
        )

    @staticmethod
    def check_updates_due_by_meeting(meeting_date: date, updates_due: date) -> None:
        if updates_due > meeting_date:
            raise RuleViolated("updates_due must be on or before the meeting's date", field="updates_due")

    @event("MeetingScheduled")
    def record_meeting(
        self, *, meeting_id: UUID, meeting_date: date, title: str, updates_due: date, actor: dict[str, Any]
    ) -> None:
        self.meeting_ids.append(meeting_id)
