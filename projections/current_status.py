"""The current state of every plan, recommendation and action, and each agency's work list."""

from __future__ import annotations

from datetime import date
from functools import singledispatchmethod
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.projection import Projection

from domain.action import Action
from domain.plan import Plan
from domain.timeline import is_overdue
from projections.actions import FACTS_DDL, ActionFolding, encode_state
from projections.sql import SqlView, dumps, loads


class CurrentStatusView(ActionFolding, SqlView):
    tables = {
        "plans": "id",
        "recommendations": "id",
        "actions": "id",
        "facts": "action_id",
    }

    def ddl(self) -> list[str]:
        return [
            FACTS_DDL,
            "CREATE TABLE IF NOT EXISTS {p}_plans (id TEXT PRIMARY KEY, title TEXT NOT NULL, source TEXT NOT NULL,"
            " owner_agency TEXT NOT NULL, created_at TEXT NOT NULL, version INTEGER NOT NULL)",
            "CREATE TABLE IF NOT EXISTS {p}_recommendations (id TEXT PRIMARY KEY, plan_id TEXT NOT NULL,"
            " seq INTEGER NOT NULL, number TEXT NOT NULL, text TEXT NOT NULL, timescale TEXT NOT NULL,"
            " kind TEXT NOT NULL, reference TEXT, outcomes TEXT NOT NULL, measures TEXT NOT NULL)",
            "CREATE INDEX IF NOT EXISTS {i}_recommendations_plan ON {p}_recommendations (plan_id, seq)",
            "CREATE TABLE IF NOT EXISTS {p}_actions (id TEXT PRIMARY KEY, plan_id TEXT NOT NULL,"
            " recommendation_id TEXT NOT NULL, raised_at TEXT NOT NULL, number TEXT NOT NULL,"
            " description TEXT NOT NULL, lead_agency TEXT NOT NULL, lead_person TEXT,"
            " contributing_agencies TEXT NOT NULL, due_date TEXT, due_label TEXT, cost TEXT,"
            " start_date TEXT NOT NULL, status TEXT NOT NULL, rag TEXT, last_update TEXT,"
            " version INTEGER NOT NULL, updated_at TEXT NOT NULL)",
            "CREATE INDEX IF NOT EXISTS {i}_actions_plan ON {p}_actions (plan_id, raised_at)",
            "CREATE INDEX IF NOT EXISTS {i}_actions_lead ON {p}_actions (lead_agency, raised_at)",
        ]

    # Writing: one event, one read-model change.

    @singledispatchmethod
    def apply(self, domain_event: Any, c: Any) -> None:
        """Events this view does not show change nothing (their position is still recorded)."""

    @apply.register
    def _(self, e: Plan.Created, c: Any) -> None:
        self.execute(
            c,
            "INSERT INTO {p}_plans VALUES (:id, :title, :source, :owner_agency, :created_at, :version)"
            " ON CONFLICT (id) DO NOTHING",
            {
                "id": str(e.originator_id),
                "title": e.title,
                "source": e.source,
                "owner_agency": e.owner_agency,
                "created_at": e.timestamp.isoformat(),
                "version": e.originator_version,
            },
        )

    @apply.register
    def _(self, e: Plan.RecommendationAdded, c: Any) -> None:
        self.execute(
            c,
            "INSERT INTO {p}_recommendations VALUES (:id, :plan_id, :seq, :number, :text, :timescale, :kind,"
            " :reference, :outcomes, :measures) ON CONFLICT (id) DO NOTHING",
            {
                "id": str(e.recommendation_id),
                "plan_id": str(e.originator_id),
                "seq": e.originator_version,
                "number": e.number,
                "text": e.text,
                "timescale": e.timescale,
                "kind": e.kind,
                "reference": e.reference,
                "outcomes": dumps(e.outcomes),
                "measures": dumps(e.measures),
            },
        )
        self.execute(
            c,
            "UPDATE {p}_plans SET version = :v WHERE id = :id",
            {"v": e.originator_version, "id": str(e.originator_id)},
        )

    @apply.register
    def _(self, e: Action.Raised, c: Any) -> None:
        action = self.raised(e, c)
        self.execute(
            c,
            "INSERT INTO {p}_actions VALUES (:id, :plan_id, :recommendation_id, :raised_at, :number, :description,"
            " :lead_agency, :lead_person, :contributing_agencies, :due_date, :due_label, :cost, :start_date,"
            " :status, :rag, :last_update, :version, :raised_at) ON CONFLICT (id) DO NOTHING",
            {
                "id": str(e.originator_id),
                "plan_id": str(e.plan_id),
                "recommendation_id": str(e.recommendation_id),
                "raised_at": e.timestamp.isoformat(),
                "number": e.number,
                "description": e.description,
                "cost": e.cost,
                "start_date": e.effective_date.isoformat(),
                "version": e.originator_version,
                **current_fields(action),
            },
        )

    @apply.register
    def _(self, e: Action.Event, c: Any) -> None:
        self.fold_event(e, c)  # The row is written once per batch, at flush.

    def flush(self, c: Any) -> None:
        columns = ", ".join(f"{name} = :{name}" for name in CURRENT_FIELDS)
        c.executemany(
            self.sql(f"UPDATE {{p}}_actions SET {columns}, version = :version, updated_at = :at WHERE id = :id"),
            [
                {**current_fields(self._batch[a]), "version": self._batch[a].version, "at": at, "id": a}
                for a, at in sorted(self._dirty.items())
            ],
        )
        super().flush(c)

    # Reading.

    def list_plans(self, today: date) -> list[dict[str, Any]]:
        """The plans, oldest first; their summaries are the rollups view's (projections/rollups.py)."""
        return self.fetchall("SELECT id, title, source, owner_agency FROM {p}_plans ORDER BY created_at")

    def get_plan(self, plan_id: str, today: date) -> dict[str, Any] | None:
        plan = self.fetchone("SELECT id, title, source, owner_agency FROM {p}_plans WHERE id = :id", {"id": plan_id})
        if plan is None:
            return None
        recommendations = self.fetchall(
            "SELECT * FROM {p}_recommendations WHERE plan_id = :id ORDER BY seq", {"id": plan_id}
        )
        actions = self.fetchall("SELECT * FROM {p}_actions WHERE plan_id = :id ORDER BY raised_at", {"id": plan_id})
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
        row = self.fetchone("SELECT * FROM {p}_actions WHERE id = :id", {"id": action_id})
        return action_out(row, today) if row else None

    def agency_actions(
        self, agency: str, today: date, status: str | None = None, overdue: bool | None = None
    ) -> list[dict[str, Any]]:
        rows = self.fetchall(
            "SELECT * FROM {p}_actions WHERE lead_agency = :agency ORDER BY raised_at", {"agency": agency}
        )
        shown = [action_out(r, today) for r in rows]
        return [
            a
            for a in shown
            if (status is None or a["status"] == status) and (overdue is None or a["overdue"] == overdue)
        ]


CURRENT_FIELDS = (
    "lead_agency",
    "lead_person",
    "contributing_agencies",
    "due_date",
    "due_label",
    "status",
    "rag",
    "last_update",
)


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


class CurrentStatus(Projection[CurrentStatusView]):
    """Projects every event onto the current-status tables."""

    name = "current_status"
    view_class = CurrentStatusView

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.view.write([domain_event], tracking)
