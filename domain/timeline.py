"""How an action stood on any date, as known at any instant: the one fold that every view shares.

Binding semantics (api-contract.md, "History and time travel"): updates apply in order of
(effective_date, recorded order); `as_at` keeps those that took effect by that day. What was known at
an instant (`known_at`) is the read models' concern: they pass the facts as known then.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

NOT_STARTED, IN_PROGRESS, COMPLETED, WITHDRAWN = "not_started", "in_progress", "completed", "withdrawn"
STATUSES = (NOT_STARTED, IN_PROGRESS, COMPLETED, WITHDRAWN)
CLOSED = (COMPLETED, WITHDRAWN)
RAGS = ("red", "amber", "green", "blue")
UPDATE, LEAD = "update", "lead"


@dataclass
class Fact:
    """What one recorded change (a partner's update or a lead assignment) said, and whether it was retracted."""

    update_id: str
    kind: str
    seq: int  # The version of its first event: its place in recorded order.
    effective_date: date
    agency: str
    values: dict[str, Any] = field(default_factory=dict)
    retracted: bool = False

    def with_values(self, **values: Any) -> Fact:
        """A new fact saying these values too (a fact is never changed: it is replaced)."""
        fact = object.__new__(type(self))  # As dataclasses.replace would, in a third of its time.
        fact.__dict__.update(self.__dict__)
        fact.values = {**self.values, **values}
        return fact

    @property
    def order(self) -> tuple[date, int]:
        """Its place among the facts that apply: (effective_date, recorded order)."""
        return self.effective_date, self.seq

    def applies(self, as_at: date | None = None) -> bool:
        return not self.retracted and (as_at is None or self.effective_date <= as_at)


def initial_state(**raised: Any) -> dict[str, Any]:
    return {"status": NOT_STARTED, "rag": None, "last_update": None, **raised}


def fold(initial: dict[str, Any], facts: Iterable[Fact], as_at: date | None = None) -> dict[str, Any]:
    """The action's fields after applying, in (effective_date, seq) order, the facts that apply."""
    state = dict(initial)
    for fact in sorted((f for f in facts if f.applies(as_at)), key=lambda f: f.order):
        apply(state, fact)
    return state


def last_order(facts: Iterable[Fact]) -> tuple[date, int]:
    """The place of the last fact that applies: a fact placed after it folds forward from the current state."""
    return max((f.order for f in facts if f.applies()), default=(date.min, 0))


def apply(state: dict[str, Any], fact: Fact) -> None:
    for name, value in fact.values.items():
        if name == "progress":
            state["last_update"] = {"text": value, "effective_date": fact.effective_date}
        else:
            state[name] = value


Segment = tuple[date, date | None, dict[str, Any]]


def timeline(initial: dict[str, Any], facts: Iterable[Fact], start: date) -> list[Segment]:
    """How the action stood over valid time: (from, until, state) segments, `until` exclusive and None for
    open-ended; the same as `fold` at any date in the segment."""
    state = dict(initial)
    points: list[tuple[date, dict[str, Any]]] = [(start, dict(state))]
    for fact in sorted((f for f in facts if f.applies()), key=lambda f: f.order):
        apply(state, fact)
        points.append((max(fact.effective_date, start), dict(state)))
    return segments(points)  # type: ignore[return-value]


def segments(points: Iterable[tuple[Any, Any]]) -> list[tuple[Any, Any, Any]]:
    """(from, until, state) segments from (day, state from that day) points in day order: a later point on
    the same day wins, and neighbours in the same state are one segment (days and states of any one type:
    dates and dicts here, ISO text and JSON text in the temporal read model)."""
    merged: list[tuple[Any, Any]] = []
    for day, state in points:
        if merged and merged[-1][0] == day:
            merged.pop()
        if not merged or merged[-1][1] != state:
            merged.append((day, state))
    return [(day, merged[n + 1][0] if n + 1 < len(merged) else None, st) for n, (day, st) in enumerate(merged)]


def is_overdue(due_date: date | None, status: str, on: date) -> bool:
    """Overdue: past its due date and neither completed nor withdrawn."""
    return due_date is not None and due_date < on and status not in CLOSED
