"""An action of a plan: one event stream per action, so agencies updating different actions never conflict."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import ActionClosed, NotPermitted, RuleViolated
from domain.principals import EDITOR, Principal

NOT_STARTED, IN_PROGRESS, COMPLETED, WITHDRAWN = "not_started", "in_progress", "completed", "withdrawn"
STATUSES = (NOT_STARTED, IN_PROGRESS, COMPLETED, WITHDRAWN)
CLOSED = (COMPLETED, WITHDRAWN)
RAGS = ("red", "amber", "green", "blue")
# What an editor of a contributing (not leading) agency may report.
CONTRIBUTOR_FIELDS = frozenset({"progress", "impact", "evidence"})
UPDATE_FIELDS = ("progress", "status", "rag", "due_date", "impact", "evidence")


def supersedes(candidate: date, current: date | None) -> bool:
    """Updates apply in (effective_date, recorded_at) order: a later recording wins a tie."""
    return current is None or candidate >= current


class Action(Aggregate):
    """What one agency will do for a recommendation, and everything reported on it since."""

    @event("Raised")
    def __init__(  # noqa: PLR0913
        self,
        *,
        plan_id: UUID,
        recommendation_id: UUID,
        number: str,
        description: str,
        lead_agency: str,
        lead_person: str | None,
        contributing_agencies: list[str],
        due_date: date | None,
        due_label: str | None,
        cost: str | None,
        effective_date: date,
        actor: dict[str, Any],
    ) -> None:
        self.plan_id = plan_id
        self.recommendation_id = recommendation_id
        self.number = number
        self.description = description
        self.lead_agency = lead_agency
        self.lead_person = lead_person
        self.contributing_agencies = [a for a in contributing_agencies if a != lead_agency]
        self.due_date = due_date
        self.due_label = due_label
        self.cost = cost
        self.start_date = effective_date
        self.status = NOT_STARTED
        self.rag: str | None = None
        self.last_progress: dict[str, Any] | None = None
        self.as_of: dict[str, date] = {}

    # Commands: check the rules, then record the events.

    def post_update(  # noqa: PLR0913
        self,
        *,
        actor: Principal,
        update_id: str,
        effective_date: date,
        today: date,
        progress: str | None = None,
        status: str | None = None,
        rag: str | None = None,
        due_date: date | None = None,
        due_label: str | None = None,
        reason: str | None = None,
        impact: str | None = None,
        evidence: list[dict[str, Any]] | None = None,
    ) -> None:
        """Record one partner update: all its events are saved together or not at all."""
        given = {
            name
            for name, value in (
                ("progress", progress),
                ("status", status),
                ("rag", rag),
                ("due_date", due_date),
                ("impact", impact),
                ("evidence", evidence),
            )
            if value
        }
        self.check_update_says_something(given)
        self.check_may_post(actor, given)
        self.check_effective_date(effective_date, today)
        self.check_open_or_reopening(status, reason)
        self.check_due_date_change_has_reason(due_date, reason)
        common: dict[str, Any] = {"update_id": update_id, "effective_date": effective_date, "actor": actor.as_actor()}
        if status:
            self.change_status(status=status, reason=reason, **common)
        if rag:
            self.rate(rag=rag, **common)
        if due_date:
            self.revise_due_date(due_date=due_date, due_label=due_label, reason=reason, **common)
        if progress:
            self.report_progress(text=progress, **common)
        if impact:
            self.record_impact(text=impact, **common)
        if evidence:
            self.add_evidence(items=evidence, **common)

    def assign_lead(  # noqa: PLR0913
        self,
        *,
        actor: Principal,
        lead_agency: str,
        lead_person: str | None,
        contributing_agencies: list[str],
        effective_date: date,
        today: date,
    ) -> None:
        actor.check_may_manage_plans()
        self.check_effective_date(effective_date, today)
        self.reassign_lead(
            lead_agency=lead_agency,
            lead_person=lead_person,
            contributing_agencies=[a for a in contributing_agencies if a != lead_agency],
            effective_date=effective_date,
            actor=actor.as_actor(),
        )

    # Rules.

    @staticmethod
    def check_update_says_something(given: set[str]) -> None:
        if not given:
            raise RuleViolated(f"an update needs at least one of: {', '.join(UPDATE_FIELDS)}", field="_schema")

    def check_may_post(self, actor: Principal, given: set[str]) -> None:
        if actor.is_coordinator or (actor.role == EDITOR and actor.agency == self.lead_agency):
            return
        if actor.role == EDITOR and actor.agency in self.contributing_agencies:
            refused = sorted(given - CONTRIBUTOR_FIELDS)
            if refused:
                raise NotPermitted(
                    f"a contributing agency may report progress, impact and evidence, not {', '.join(refused)}"
                )
            return
        raise NotPermitted("only the lead agency, a contributing agency or a coordinator may update this action")

    def check_effective_date(self, effective_date: date, today: date) -> None:
        if effective_date > today:
            raise RuleViolated("effective_date cannot be after the day it is recorded", field="effective_date")
        if effective_date < self.start_date:
            raise RuleViolated(
                f"effective_date cannot be before the action started ({self.start_date.isoformat()})",
                field="effective_date",
            )

    def check_open_or_reopening(self, status: str | None, reason: str | None) -> None:
        if self.status not in CLOSED:
            return
        if status != IN_PROGRESS:
            raise ActionClosed(f"the action is {self.status}: reopen it first (status in_progress with a reason)")
        if not reason:
            raise RuleViolated("reopening a closed action needs a reason", field="reason")

    @staticmethod
    def check_due_date_change_has_reason(due_date: date | None, reason: str | None) -> None:
        if due_date and not reason:
            raise RuleViolated("a revised due date needs a reason", field="reason")

    # Events: each applies one recorded fact, in effective-date order where it matters.

    @event("StatusChanged")
    def change_status(
        self, *, update_id: str, status: str, reason: str | None, effective_date: date, actor: dict[str, Any]
    ) -> None:
        if supersedes(effective_date, self.as_of.get("status")):
            self.status = status
            self.as_of["status"] = effective_date

    @event("RagRated")
    def rate(self, *, update_id: str, rag: str, effective_date: date, actor: dict[str, Any]) -> None:
        if supersedes(effective_date, self.as_of.get("rag")):
            self.rag = rag
            self.as_of["rag"] = effective_date

    @event("DueDateRevised")
    def revise_due_date(  # noqa: PLR0913
        self,
        *,
        update_id: str,
        due_date: date,
        due_label: str | None,
        reason: str | None,
        effective_date: date,
        actor: dict[str, Any],
    ) -> None:
        if supersedes(effective_date, self.as_of.get("due_date")):
            self.due_date = due_date
            self.due_label = due_label
            self.as_of["due_date"] = effective_date

    @event("ProgressReported")
    def report_progress(self, *, update_id: str, text: str, effective_date: date, actor: dict[str, Any]) -> None:
        if supersedes(effective_date, self.as_of.get("progress")):
            self.last_progress = {"text": text, "effective_date": effective_date}
            self.as_of["progress"] = effective_date

    @event("ImpactRecorded")
    def record_impact(self, *, update_id: str, text: str, effective_date: date, actor: dict[str, Any]) -> None:
        pass  # Impact is history only: it changes no current-state field.

    @event("EvidenceAdded")
    def add_evidence(
        self, *, update_id: str, items: list[dict[str, Any]], effective_date: date, actor: dict[str, Any]
    ) -> None:
        pass  # Evidence is history only: it changes no current-state field.

    @event("LeadAssigned")
    def reassign_lead(
        self,
        *,
        lead_agency: str,
        lead_person: str | None,
        contributing_agencies: list[str],
        effective_date: date,
        actor: dict[str, Any],
    ) -> None:
        self.lead_agency = lead_agency
        self.lead_person = lead_person
        self.contributing_agencies = contributing_agencies


def is_overdue(due_date: date | None, status: str, on: date) -> bool:
    """Overdue: past its due date and neither completed nor withdrawn."""
    return due_date is not None and due_date < on and status not in CLOSED
