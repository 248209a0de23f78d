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
        apply(state, fact)
    return state


def apply(state: dict[str, Any], fact: Fact) -> None:
    for name, value in fact.values.items():
        if name == "progress":
            state["last_update"] = {"text": value, "effective_date": fact.effective_date}
        else:
            state[name] = value


def timeline(
    initial: dict[str, Any], facts: Iterable[Fact], start: date, known_at: datetime | None = None
) -> list[tuple[date, date | None, dict[str, Any]]]:
    """How the action stood over valid time, as known at `known_at`: (from, until, state) segments,
    `until` exclusive and None for open-ended; the same as `fold` at any date in the segment."""
    state = dict(initial)
    points: list[tuple[date, dict[str, Any]]] = [(start, dict(state))]
    ordered = sorted((f for f in facts if f.applies(None, known_at)), key=lambda f: (f.effective_date, f.seq))
    for fact in ordered:
        apply(state, fact)
        day = max(fact.effective_date, start)
        if points[-1][0] == day:
            points[-1] = (day, dict(state))
        elif points[-1][1] != state:
            points.append((day, dict(state)))
    merged = [p for n, p in enumerate(points) if n == 0 or p[1] != points[n - 1][1]]
    return [(day, merged[n + 1][0] if n + 1 < len(merged) else None, st) for n, (day, st) in enumerate(merged)]


def is_overdue(due_date: date | None, status: str, on: date) -> bool:
    """Overdue: past its due date and neither completed nor withdrawn."""
    return due_date is not None and due_date < on and status not in CLOSED
