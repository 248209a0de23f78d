"""An action of a plan: one event stream per action, so agencies updating different actions never conflict.

One aggregate per module, its commands, `check_*` rules and events together (about 330 lines, the largest
aggregate): splitting them would separate a rule from the event it guards.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from domain.clock import StampedAggregate
from domain.errors import ActionClosed, NotFound, NotPermitted, RuleViolated
from domain.principals import EDITOR, Principal
from domain.timeline import CLOSED, IN_PROGRESS, LEAD, UPDATE, Fact, apply, fold, initial_state, last_order

# What an editor of a contributing (not leading) agency may report.
CONTRIBUTOR_FIELDS = frozenset({"progress", "impact", "evidence"})
UPDATE_FIELDS = ("progress", "status", "rag", "due_date", "impact", "evidence")


class Action(StampedAggregate):
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
        self.cost = cost
        self.start_date = effective_date
        self.initial = initial_state(
            start_date=effective_date,
            lead_agency=lead_agency,
            lead_person=lead_person,
            contributing_agencies=[a for a in contributing_agencies if a != lead_agency],
            due_date=due_date,
            due_label=due_label,
        )
        self.facts: dict[str, Fact] = {}
        self.refresh()

    @classmethod
    def from_facts(  # noqa: PLR0913
        cls,
        *,
        id: UUID,
        version: int,
        timestamp: datetime,
        plan_id: UUID,
        recommendation_id: UUID,
        initial: dict[str, Any],
        facts: dict[str, Fact],
    ) -> Action:
        """The action as a read model keeps it (its ids, initial state and facts), ready for events to apply to."""
        action = cls.__new__(cls)
        action.__base_init__(originator_id=id, originator_version=version, timestamp=timestamp)
        action.plan_id, action.recommendation_id = plan_id, recommendation_id
        action.initial, action.facts = initial, facts
        action.refresh()
        return action

    # The current state: every fact not retracted, applied in (effective_date, recorded) order.

    def refresh(self) -> None:
        """Forget the folded state: it is folded again when next read."""
        self._state: dict[str, Any] | None = None

    @property
    def state(self) -> dict[str, Any]:
        if self._state is None:
            self._state = fold(self.initial, self.facts.values())
            self._last = last_order(self.facts.values())
        return self._state

    @property
    def status(self) -> str:
        return str(self.state["status"])

    @property
    def rag(self) -> str | None:
        return self.state["rag"]

    @property
    def due_date(self) -> date | None:
        return self.state["due_date"]

    @property
    def due_label(self) -> str | None:
        return self.state["due_label"]

    @property
    def lead_agency(self) -> str:
        return str(self.state["lead_agency"])

    @property
    def lead_person(self) -> str | None:
        return self.state["lead_person"]

    @property
    def contributing_agencies(self) -> list[str]:
        return list(self.state["contributing_agencies"])

    @property
    def last_progress(self) -> dict[str, Any] | None:
        return self.state["last_update"]

    def note(self, update_id: str, kind: str, effective_date: date, actor: dict[str, Any], **values: Any) -> None:
        """Add one event's values to the fact of the update it belongs to (facts are replaced, never changed).

        A fact placed after every other that applies (the usual case: updates reported as they happen)
        moves the folded state forward; any other is folded afresh when the state is next read.
        """
        fact = self.facts.get(update_id)
        if fact is None:  # The update's first event.
            agency = actor.get("on_behalf_of") or actor["agency"]  # An update recorded for an agency is theirs.
            fact = Fact(update_id, kind, self.version + 1, effective_date, agency, values)
        else:
            fact = fact.with_values(**values)
        self.facts[update_id] = fact
        order = fact.order
        if self._state is not None and order >= self._last:
            apply(self._state, fact)
            self._last = order
        else:
            self.refresh()

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
            self.trigger_event(self.StatusChanged, status=status, reason=reason, **common)
        if rag:
            self.trigger_event(self.RagRated, rag=rag, **common)
        if due_date:
            self.trigger_event(self.DueDateRevised, due_date=due_date, due_label=due_label, reason=reason, **common)
        if progress:
            self.trigger_event(self.ProgressReported, text=progress, **common)
        if impact:
            self.trigger_event(self.ImpactRecorded, text=impact, **common)
        if evidence:
            self.trigger_event(self.EvidenceAdded, items=evidence, **common)

    def assign_lead(  # noqa: PLR0913
        self,
        *,
        actor: Principal,
        update_id: str,
        lead_agency: str,
        lead_person: str | None,
        contributing_agencies: list[str],
        effective_date: date,
        today: date,
    ) -> None:
        actor.check_may_manage_plans()
        self.check_effective_date(effective_date, today)
        self.trigger_event(
            self.LeadAssigned,
            update_id=update_id,
            lead_agency=lead_agency,
            lead_person=lead_person,
            contributing_agencies=[a for a in contributing_agencies if a != lead_agency],
            effective_date=effective_date,
            actor=actor.as_actor(),
        )

    def retract_update(self, *, actor: Principal, update_id: str, reason: str) -> None:
        """Treat an update as entered in error from now on; it stays in history, marked."""
        fact = self.facts.get(update_id)
        if fact is None or fact.kind != UPDATE:
            raise NotFound("no such update on this action")
        self.check_may_retract(actor, fact)
        self.trigger_event(self.UpdateRetracted, update_id=update_id, reason=reason, actor=actor.as_actor())

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

    @staticmethod
    def check_may_retract(actor: Principal, fact: Fact) -> None:
        if fact.retracted:
            raise RuleViolated("this update is already retracted", field="update_id")
        if not (actor.is_coordinator or (actor.role == EDITOR and actor.agency == fact.agency)):
            raise NotPermitted("only the update's own agency or a coordinator may retract it")

    @staticmethod
    def check_not_after(effective_date: date, today: date) -> None:
        """A reported fact may be late, never early: it cannot take effect after the day it is recorded."""
        if effective_date > today:
            raise RuleViolated("effective_date cannot be after the day it is recorded", field="effective_date")

    def check_effective_date(self, effective_date: date, today: date) -> None:
        self.check_not_after(effective_date, today)
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

    # Events: each adds what it says to its update's fact (its own `apply`, called by the library's `mutate`);
    # the fold decides what shows. Their names and fields are what the store holds: they never change.

    class StatusChanged(StampedAggregate.Event):
        update_id: str
        status: str
        reason: str | None
        effective_date: date
        actor: dict[str, Any]

        def apply(self, action: Action) -> None:
            action.note(self.update_id, UPDATE, self.effective_date, self.actor, status=self.status)

    class RagRated(StampedAggregate.Event):
        update_id: str
        rag: str
        effective_date: date
        actor: dict[str, Any]

        def apply(self, action: Action) -> None:
            action.note(self.update_id, UPDATE, self.effective_date, self.actor, rag=self.rag)

    class DueDateRevised(StampedAggregate.Event):
        update_id: str
        due_date: date
        due_label: str | None
        reason: str | None
        effective_date: date
        actor: dict[str, Any]

        def apply(self, action: Action) -> None:
            due = {"due_date": self.due_date, "due_label": self.due_label}
            action.note(self.update_id, UPDATE, self.effective_date, self.actor, **due)

    class ProgressReported(StampedAggregate.Event):
        update_id: str
        text: str
        effective_date: date
        actor: dict[str, Any]

        def apply(self, action: Action) -> None:
            action.note(self.update_id, UPDATE, self.effective_date, self.actor, progress=self.text)

    class ImpactRecorded(StampedAggregate.Event):
        update_id: str
        text: str
        effective_date: date
        actor: dict[str, Any]

        def apply(self, action: Action) -> None:
            action.note(self.update_id, UPDATE, self.effective_date, self.actor)  # History only: no current field.

    class EvidenceAdded(StampedAggregate.Event):
        update_id: str
        items: list[dict[str, Any]]
        effective_date: date
        actor: dict[str, Any]

        def apply(self, action: Action) -> None:
            action.note(self.update_id, UPDATE, self.effective_date, self.actor)  # History only: no current field.

    class LeadAssigned(StampedAggregate.Event):
        update_id: str
        lead_agency: str
        lead_person: str | None
        contributing_agencies: list[str]
        effective_date: date
        actor: dict[str, Any]

        def apply(self, action: Action) -> None:
            action.note(
                self.update_id,
                LEAD,
                self.effective_date,
                self.actor,
                lead_agency=self.lead_agency,
                lead_person=self.lead_person,
                contributing_agencies=self.contributing_agencies,
            )

    class UpdateRetracted(StampedAggregate.Event):
        update_id: str
        reason: str
        actor: dict[str, Any]

        def apply(self, action: Action) -> None:
            action.facts[self.update_id] = replace(action.facts[self.update_id], retracted=True)
            action.refresh()
