"""The current state of every plan, recommendation and action, and each agency's work list."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import singledispatchmethod
from typing import Any

from adapters.sql import dumps, loads
from domain.action import Action
from domain.plan import Plan
from domain.timeline import is_overdue
from projections.actions import ActionView, encode_state

PLAN_COLUMNS = ("id", "title", "source", "owner_agency", "created_at", "version")
RECOMMENDATION_COLUMNS = (
    "id",
    "plan_id",
    "seq",
    "number",
    "text",
    "timescale",
    "kind",
    "reference",
    "outcomes",
    "measures",
)
ACTION_COLUMNS = (
    "id",
    "plan_id",
    "recommendation_id",
    "raised_at",
    "number",
    "description",
    "lead_agency",
    "lead_person",
    "contributing_agencies",
    "due_date",
    "due_label",
    "cost",
    "start_date",
    "status",
    "rag",
    "last_update",
    "version",
    "updated_at",
)


@dataclass
class Batch:
    plans: list[tuple[Any, ...]] = field(default_factory=list)
    plan_versions: dict[str, int] = field(default_factory=dict)
    recommendations: list[tuple[Any, ...]] = field(default_factory=list)
    raised: dict[Any, Action.Raised] = field(default_factory=dict)
    changed: dict[Any, tuple[Action, Any]] = field(default_factory=dict)  # Action id -> (action, its last event).


# The columns of an action's row that its events change, with their SQL types.
CHANGING = dict.fromkeys(
    ("lead_agency", "lead_person", "contributing_agencies", "due_date", "due_label", "status", "rag", "last_update"),
    "text",
) | {"version": "integer", "updated_at": "text"}


class CurrentStatusView(ActionView):
    tables = {
        "plans": "id",
        "recommendations": "id",
        "actions": "id",
    }
    indexes = ("recommendations_plan", "actions_plan", "actions_lead")

    def ddl(self) -> list[str]:
        return [
            "CREATE TABLE IF NOT EXISTS {t.plans} (id TEXT PRIMARY KEY, title TEXT NOT NULL, source TEXT NOT NULL,"
            " owner_agency TEXT NOT NULL, created_at TEXT NOT NULL, version INTEGER NOT NULL)",
            "CREATE TABLE IF NOT EXISTS {t.recommendations} (id TEXT PRIMARY KEY, plan_id TEXT NOT NULL,"
            " seq INTEGER NOT NULL, number TEXT NOT NULL, text TEXT NOT NULL, timescale TEXT NOT NULL,"
            " kind TEXT NOT NULL, reference TEXT, outcomes TEXT NOT NULL, measures TEXT NOT NULL)",
            "CREATE TABLE IF NOT EXISTS {t.actions} (id TEXT PRIMARY KEY, plan_id TEXT NOT NULL,"
            " recommendation_id TEXT NOT NULL, raised_at TEXT NOT NULL, number TEXT NOT NULL,"
            " description TEXT NOT NULL, lead_agency TEXT NOT NULL, lead_person TEXT,"
            " contributing_agencies TEXT NOT NULL, due_date TEXT, due_label TEXT, cost TEXT,"
            " start_date TEXT NOT NULL, status TEXT NOT NULL, rag TEXT, last_update TEXT,"
            " version INTEGER NOT NULL, updated_at TEXT NOT NULL)",
        ]

    def reading_ddl(self) -> list[str]:
        return [
            "CREATE INDEX IF NOT EXISTS {i.recommendations_plan} ON {t.recommendations} (plan_id, seq)",
            "CREATE INDEX IF NOT EXISTS {i.actions_plan} ON {t.actions} (plan_id, raised_at)",
            "CREATE INDEX IF NOT EXISTS {i.actions_lead} ON {t.actions} (lead_agency, raised_at)",
        ]

    # Writing: each event changes the batch's buffers; each table is written once per batch.

    def begin(self, events: Sequence[Any], c: Any) -> Batch:
        return Batch()

    def flush(self, batch: Batch, c: Any) -> None:
        insert = self.db.dialect.insert_many
        insert(c, self.db.tables.plans, PLAN_COLUMNS, batch.plans)
        insert(c, self.db.tables.recommendations, RECOMMENDATION_COLUMNS, batch.recommendations)
        self.db.executemany(
            c,
            "UPDATE {t.plans} SET version = {version} WHERE id = {id}",
            [{"id": plan_id, "version": version} for plan_id, version in batch.plan_versions.items()],
        )
        new = [(batch.raised[i], *batch.changed[i]) for i in batch.raised]
        insert(c, self.db.tables.actions, ACTION_COLUMNS, [new_row(e, a, last.timestamp) for e, a, last in new])
        self.db.dialect.update_many(
            c,
            self.db.tables.actions,
            {"id": "text"},
            CHANGING,
            [
                {
                    **current_fields(action),
                    "version": action.version,
                    "updated_at": last.timestamp.isoformat(),
                    "id": str(action_id),
                }
                for action_id, (action, last) in batch.changed.items()
                if action_id not in batch.raised
            ],
        )

    @singledispatchmethod
    def apply(self, domain_event: Any, batch: Batch) -> None:
        """Events this view does not show change nothing (their position is still recorded)."""

    @apply.register
    def _(self, e: Plan.Created, batch: Batch) -> None:
        plan_id = str(e.originator_id)
        batch.plans.append((plan_id, e.title, e.source, e.owner_agency, e.timestamp.isoformat(), e.originator_version))

    @apply.register
    def _(self, e: Plan.RecommendationAdded, batch: Batch) -> None:
        plan_id = str(e.originator_id)
        batch.recommendations.append(
            (
                str(e.recommendation_id),
                plan_id,
                e.originator_version,
                e.number,
                e.text,
                e.timescale,
                e.kind,
                e.reference,
                dumps(e.outcomes),
                dumps(e.measures),
            )
        )
        batch.plan_versions[plan_id] = e.originator_version

    @apply.register
    def _(self, e: Action.Raised, batch: Batch) -> None:
        batch.raised[e.originator_id] = e
        batch.changed[e.originator_id] = (self.actions.raised(e), e)

    @apply.register
    def _(self, e: Action.Event, batch: Batch) -> None:
        action = self.actions.get(e)
        e.mutate(action)
        batch.changed[e.originator_id] = (action, e)

    # Reading.

    def list_plans(self, today: date) -> list[dict[str, Any]]:
        """The plans, oldest first; their summaries are the rollups view's (projections/rollups.py)."""
        return self.db.fetchall("SELECT id, title, source, owner_agency FROM {t.plans} ORDER BY created_at")

    def get_plan(self, plan_id: str, today: date) -> dict[str, Any] | None:
        plan = self.db.fetchone(
            "SELECT id, title, source, owner_agency FROM {t.plans} WHERE id = {id}", {"id": plan_id}
        )
        if plan is None:
            return None
        recommendations = self.db.fetchall(
            "SELECT * FROM {t.recommendations} WHERE plan_id = {id} ORDER BY seq", {"id": plan_id}
        )
        actions = self.db.fetchall("SELECT * FROM {t.actions} WHERE plan_id = {id} ORDER BY raised_at", {"id": plan_id})
        shown = [action_out(a, today) for a in actions]
        plan["recommendations"] = [
            {
                **{k: v for k, v in r.items() if k not in ("plan_id", "seq")},
                "outcomes": loads(r["outcomes"]),
                "measures": loads(r["measures"]),
                "actions": [a for a in shown if a["recommendation_id"] == r["id"]],
            }
            for r in recommendations
        ]
        return plan

    def get_action(self, action_id: str, today: date) -> dict[str, Any] | None:
        row = self.db.fetchone("SELECT * FROM {t.actions} WHERE id = {id}", {"id": action_id})
        return action_out(row, today) if row else None

    def agency_actions(
        self, agency: str, today: date, status: str | None = None, overdue: bool | None = None
    ) -> list[dict[str, Any]]:
        rows = self.db.fetchall(
            "SELECT * FROM {t.actions} WHERE lead_agency = {agency} ORDER BY raised_at", {"agency": agency}
        )
        shown = [action_out(r, today) for r in rows]
        return [
            a
            for a in shown
            if (status is None or a["status"] == status) and (overdue is None or a["overdue"] == overdue)
        ]


def current_fields(action: Action) -> dict[str, Any]:
    state = encode_state(
        {
            "lead_agency": action.lead_agency,
            "lead_person": action.lead_person,
            "due_date": action.due_date,
            "due_label": action.due_label,
            "status": action.status,
            "rag": action.rag,
        }
    )
    last = action.last_progress
    state["contributing_agencies"] = dumps(action.contributing_agencies)
    state["last_update"] = dumps(encode_state(last)) if last else None
    return state


def new_row(e: Action.Raised, action: Action, at: datetime) -> tuple[Any, ...]:
    row = {
        "id": str(e.originator_id),
        "plan_id": str(e.plan_id),
        "recommendation_id": str(e.recommendation_id),
        "raised_at": e.timestamp.isoformat(),
        "number": e.number,
        "description": e.description,
        "cost": e.cost,
        "start_date": e.effective_date.isoformat(),
        "version": action.version,
        "updated_at": at.isoformat(),
        **current_fields(action),
    }
    return tuple(row[column] for column in ACTION_COLUMNS)


def action_out(row: dict[str, Any], today: date) -> dict[str, Any]:
    due = date.fromisoformat(row["due_date"]) if row["due_date"] else None
    return {
        "id": row["id"],
        "plan_id": row["plan_id"],
        "recommendation_id": row["recommendation_id"],
        "number": row["number"],
        "description": row["description"],
        "lead_agency": row["lead_agency"],
        "lead_person": row["lead_person"],
        "contributing_agencies": loads(row["contributing_agencies"]),
        "due_date": row["due_date"],
        "due_label": row["due_label"],
        "cost": row["cost"],
        "start_date": row["start_date"],
        "status": row["status"],
        "rag": row["rag"],
        "overdue": is_overdue(due, row["status"], today),
        "last_update": loads(row["last_update"]),
        "version": row["version"],
    }
