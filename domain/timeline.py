"""How an action stood on any date, as known at any instant: the one fold that every view shares.

Binding semantics (api-contract.md, "History and time travel"): updates apply in order of
(effective_date, recorded order); `as_at` keeps those that took effect by that day; `known_at` keeps
those recorded by that instant and honours only the retractions recorded by then.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

NOT_STARTED, IN_PROGRESS, COMPLETED, WITHDRAWN = "not_started", "in_progress", "completed", "withdrawn"
STATUSES = (NOT_STARTED, IN_PROGRESS, COMPLETED, WITHDRAWN)
CLOSED = (COMPLETED, WITHDRAWN)
RAGS = ("red", "amber", "green", "blue")
UPDATE, LEAD = "update", "lead"


@dataclass
class Fact:
    """What one recorded change (a partner's update or a lead assignment) said, and when."""

    update_id: str
    kind: str
    seq: int  # The version of its first event: its place in recorded order.
    effective_date: date
    agency: str
    values: dict[str, Any] = field(default_factory=dict)
    recorded_at: datetime | None = None
    retracted: bool = False
    retracted_at: datetime | None = None

    def applies(self, as_at: date | None, known_at: datetime | None) -> bool:
        if as_at is not None and self.effective_date > as_at:
            return False
        if known_at is None:
            return not self.retracted
        assert self.recorded_at is not None
        if self.recorded_at > known_at:
            return False
        return not (self.retracted and self.retracted_at is not None and self.retracted_at <= known_at)


def initial_state(**raised: Any) -> dict[str, Any]:
    return {"status": NOT_STARTED, "rag": None, "last_update": None, **raised}


def fold(
    initial: dict[str, Any], facts: Iterable[Fact], as_at: date | None = None, known_at: datetime | None = None
) -> dict[str, Any]:
    """The action's fields after applying, in (effective_date, seq) order, the facts that apply."""
    state = dict(initial)
    for fact in sorted((f for f in facts if f.applies(as_at, known_at)), key=lambda f: (f.effective_date, f.seq)):
        for name, value in fact.values.items():
            if name == "progress":
                state["last_update"] = {"text": value, "effective_date": fact.effective_date}
            else:
                state[name] = value
    return state


def is_overdue(due_date: date | None, status: str, on: date) -> bool:
    """Overdue: past its due date and neither completed nor withdrawn."""
    return due_date is not None and due_date < on and status not in CLOSED
