"""Views that show actions keep each action's facts and fold them with the domain's own code.

Each event is applied to a shell of the `Action` aggregate by the event's own method body, so a
view can never disagree with the aggregate about what an event means.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime
from typing import Any
from uuid import UUID

from domain.action import Action
from domain.timeline import Fact
from projections.sql import Sql, dumps, loads

FACTS_DDL = (
    "CREATE TABLE IF NOT EXISTS {p}_facts (action_id TEXT PRIMARY KEY, plan_id TEXT NOT NULL,"
    " recommendation_id TEXT NOT NULL, initial TEXT NOT NULL, facts TEXT NOT NULL, version INTEGER NOT NULL)"
)
DATE_FIELDS = ("due_date", "start_date")


def encode_state(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in values.items()}


def decode_state(values: dict[str, Any]) -> dict[str, Any]:
    return {k: date.fromisoformat(v) if k in DATE_FIELDS and v else v for k, v in values.items()}


def encode_fact(fact: Fact) -> dict[str, Any]:
    return {
        "update_id": fact.update_id,
        "kind": fact.kind,
        "seq": fact.seq,
        "effective_date": fact.effective_date.isoformat(),
        "agency": fact.agency,
        "values": encode_state(fact.values),
        "recorded_at": fact.recorded_at.isoformat() if fact.recorded_at else None,
        "retracted": fact.retracted,
        "retracted_at": fact.retracted_at.isoformat() if fact.retracted_at else None,
    }


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
    """Keeps (initial state, facts) per action; `fold_event` applies one event and returns the shells.

    Within a batch each action's facts are read once and written once (at `flush`), whatever the
    number of its events in the batch.
    """

    _batch: dict[str, Action]
    _dirty: dict[str, str]  # Action id -> the time of its last event in this batch.

    def begin_batch(self, events: Sequence[Any], c: Any) -> None:
        super().begin_batch(events, c)  # type: ignore[misc]
        self._batch, self._dirty = {}, {}
        wanted = sorted({str(e.originator_id) for e in events if isinstance(e, Action.Event)})
        for chunk in range(0, len(wanted), 500):  # Read the batch's actions in a few queries, not one each.
            ids = {f"id{n}": action_id for n, action_id in enumerate(wanted[chunk : chunk + 500])}
            self.execute(
                c,
                f"SELECT * FROM {{p}}_facts WHERE action_id IN ({', '.join(':' + k for k in ids)})",
                ids,
            )
            for row in c.fetchall():
                self._batch[row["action_id"]] = from_row(dict(row))

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
        self._batch[str(e.originator_id)] = action
        return action

    def fold_event(self, e: Any, c: Any) -> tuple[Action, Action]:
        """The action just before and just after event `e`, as the aggregate itself would have it."""
        action_id = str(e.originator_id)
        before = self._batch[action_id]
        # Facts are immutable, so shells share them; the event's own method body refreshes the state.
        after = shell(before.initial, dict(before.facts), before.version, refresh=False)
        after.plan_id, after.recommendation_id = before.plan_id, before.recommendation_id
        e.apply(after)
        for update_id, fact in after.facts.items():  # What the aggregate cannot know: when it was told.
            if fact.recorded_at is None or (fact.retracted and fact.retracted_at is None):
                after.facts[update_id] = replace(
                    fact,
                    recorded_at=fact.recorded_at or e.timestamp,
                    retracted_at=fact.retracted_at or (e.timestamp if fact.retracted else None),
                )
        after.version = e.originator_version
        self._batch[action_id] = after
        self._dirty[action_id] = e.timestamp.isoformat()
        return before, after

    def flush(self, c: Any) -> None:
        c.executemany(
            self.sql("UPDATE {p}_facts SET facts = :facts, version = :version WHERE action_id = :id"),
            [
                {
                    "facts": dumps([encode_fact(f) for f in self._batch[a].facts.values()]),
                    "version": self._batch[a].version,
                    "id": a,
                }
                for a in sorted(self._dirty)
            ],
        )
        super().flush(c)  # type: ignore[misc]


def from_row(row: dict[str, Any]) -> Action:
    facts = {f["update_id"]: decode_fact(f) for f in loads(row["facts"])}
    action = shell(decode_state(loads(row["initial"])), facts, row["version"])
    action.plan_id, action.recommendation_id = UUID(row["plan_id"]), UUID(row["recommendation_id"])
    return action


def shell(initial: dict[str, Any], facts: dict[str, Fact], version: int, refresh: bool = True) -> Action:
    """An Action rebuilt from a view's stored facts, ready for an event's method body to apply to."""
    action = Action.__new__(Action)
    action.initial = initial
    action.facts = facts
    action.version = version
    if refresh:
        action.refresh()
    return action
