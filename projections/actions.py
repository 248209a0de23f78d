"""Views that show actions keep each action's facts and fold them with the domain's own code.

Each event is applied to a shell of the `Action` aggregate by the event's own method body, so a
view can never disagree with the aggregate about what an event means.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from typing import Any

from domain.action import Action
from domain.timeline import Fact
from projections.sql import Sql, dumps, loads

FACTS_DDL = (
    "CREATE TABLE IF NOT EXISTS {p}_facts (action_id TEXT PRIMARY KEY, plan_id TEXT NOT NULL,"
    " recommendation_id TEXT NOT NULL, initial TEXT NOT NULL, facts TEXT NOT NULL, version INTEGER NOT NULL)"
)
DATE_FIELDS = ("due_date",)


def encode_state(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in values.items()}


def decode_state(values: dict[str, Any]) -> dict[str, Any]:
    return {k: date.fromisoformat(v) if k in DATE_FIELDS and v else v for k, v in values.items()}


def encode_fact(fact: Fact) -> dict[str, Any]:
    data = asdict(fact)
    data["values"] = encode_state(fact.values)
    return encode_state({**data, "effective_date": fact.effective_date})


def decode_fact(data: dict[str, Any]) -> Fact:
    stamp = {k: datetime.fromisoformat(data[k]) if data[k] else None for k in ("recorded_at", "retracted_at")}
    return Fact(
        update_id=data["update_id"],
        kind=data["kind"],
        seq=data["seq"],
        effective_date=date.fromisoformat(data["effective_date"]),
        agency=data["agency"],
        values=decode_state(data["values"]),
        retracted=data["retracted"],
        **stamp,
    )


class ActionFolding(Sql):
    """Keeps (initial state, facts) per action; `fold_event` applies one event and returns the shell."""

    def raised(self, e: Action.Raised, c: Any) -> Action:
        action = e.mutate(None)
        assert action is not None
        self.execute(
            c,
            "INSERT INTO {p}_facts VALUES (:id, :plan, :rec, :initial, '[]', :version)"
            " ON CONFLICT (action_id) DO NOTHING",
            {
                "id": str(e.originator_id),
                "plan": str(e.plan_id),
                "rec": str(e.recommendation_id),
                "initial": dumps(encode_state(action.initial)),
                "version": e.originator_version,
            },
        )
        return action

    def fold_event(self, e: Any, c: Any) -> tuple[Action, Action]:
        """The action just before and just after event `e`, as the aggregate itself would have it."""
        self.execute(c, "SELECT initial, facts FROM {p}_facts WHERE action_id = :id", {"id": str(e.originator_id)})
        row = dict(c.fetchone())
        before = shell(row, e.originator_version - 1)
        after = shell(row, e.originator_version - 1)
        e.apply(after)
        for fact in after.facts.values():  # What the aggregate cannot know: when it was told.
            if fact.recorded_at is None:
                fact.recorded_at = e.timestamp
            if fact.retracted and fact.retracted_at is None:
                fact.retracted_at = e.timestamp
        after.refresh()
        self.execute(
            c,
            "UPDATE {p}_facts SET facts = :facts, version = :version WHERE action_id = :id",
            {
                "facts": dumps([encode_fact(f) for f in after.facts.values()]),
                "version": e.originator_version,
                "id": str(e.originator_id),
            },
        )
        return before, after


def shell(row: dict[str, Any], version: int) -> Action:
    """An Action rebuilt from a view's stored facts, ready for an event's method body to apply to."""
    action = Action.__new__(Action)
    action.initial = decode_state(loads(row["initial"]))
    action.facts = {f["update_id"]: decode_fact(f) for f in loads(row["facts"])}
    action.version = version
    action.refresh()
    return action
