"""Counts of actions by status, RAG and overdue, per plan, per recommendation and per lead agency.

Overdue changes as days pass with no event, so it is never stored: the view keeps how many actions
share each (status, rag, due_date) in each scope and decides at read time which of them are overdue.
Every event moves its action from the key it had before to the key it has after (both folded by the
domain's own code), so updates, lead changes and retractions all keep the counts right.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date
from functools import singledispatchmethod
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.projection import Projection

from domain.action import Action
from domain.plan import Plan
from domain.timeline import RAGS, STATUSES, is_overdue
from projections.actions import FACTS_DDL, ActionFolding
from projections.sql import SqlView

PLAN, RECOMMENDATION, AGENCY = "plan", "recommendation", "agency"
SCOPES = (PLAN, RECOMMENDATION, AGENCY)
KEY = ("scope", "scope_id", "status", "rag", "due_date")
NONE = ""  # Stands for a missing rag or due date, so that both can be part of the primary key.

Key = tuple[str, str, str, str, str]


class RollupsView(ActionFolding, SqlView):
    tables = {
        "scopes": "scope, scope_id",
        "counts": ", ".join(KEY),
        "facts": "action_id",
    }

    def ddl(self) -> list[str]:
        return [
            FACTS_DDL,
            # The plans and recommendations that exist, with or without actions.
            "CREATE TABLE IF NOT EXISTS {p}_scopes (scope TEXT NOT NULL, scope_id TEXT NOT NULL,"
            " PRIMARY KEY (scope, scope_id))",
            "CREATE TABLE IF NOT EXISTS {p}_counts (scope TEXT NOT NULL, scope_id TEXT NOT NULL,"
            " status TEXT NOT NULL, rag TEXT NOT NULL, due_date TEXT NOT NULL, n INTEGER NOT NULL,"
            " PRIMARY KEY (scope, scope_id, status, rag, due_date))",
        ]

    # Writing.

    @singledispatchmethod
    def apply(self, domain_event: Any, c: Any) -> None:
        """Events that change no count change nothing (their position is still recorded)."""

    @apply.register
    def _(self, e: Plan.Created, c: Any) -> None:
        self.add_scope(c, PLAN, str(e.originator_id))

    @apply.register
    def _(self, e: Plan.RecommendationAdded, c: Any) -> None:
        self.add_scope(c, RECOMMENDATION, str(e.recommendation_id))

    @apply.register
    def _(self, e: Action.Raised, c: Any) -> None:
        self.move([], keys(self.raised(e, c)))

    @apply.register
    def _(self, e: Action.Event, c: Any) -> None:
        before, after = self.fold_event(e, c)
        if counted(before) != counted(after):  # Progress, impact, evidence, a lead person: no count moves.
            self.move(keys(before), keys(after))

    def add_scope(self, c: Any, scope: str, scope_id: str) -> None:
        self.execute(
            c,
            "INSERT INTO {p}_scopes VALUES (:scope, :scope_id) ON CONFLICT (scope, scope_id) DO NOTHING",
            {"scope": scope, "scope_id": scope_id},
        )

    def begin_batch(self, events: Any, c: Any) -> None:
        super().begin_batch(events, c)
        self._deltas: Counter[Key] = Counter()

    def move(self, old: list[Key], new: list[Key]) -> None:
        """One action leaves the `old` keys and joins the `new` (written once per batch, at flush)."""
        self._deltas.subtract(set(old) - set(new))
        self._deltas.update(set(new) - set(old))

    def flush(self, c: Any) -> None:
        changes = [dict(zip(KEY, key, strict=True), n=n) for key, n in sorted(self._deltas.items()) if n]
        c.executemany(
            self.sql(
                "INSERT INTO {p}_counts VALUES (:scope, :scope_id, :status, :rag, :due_date, :n)"
                f" ON CONFLICT ({', '.join(KEY)}) DO UPDATE SET n = {{p}}_counts.n + :n"
            ),
            changes,
        )
        c.executemany(self.sql(f"DELETE FROM {{p}}_counts WHERE {MATCH} AND n <= 0"), changes)
        super().flush(c)

    # Reading.

    def known(self, scope: str, scope_id: str) -> bool:
        """Whether the plan or recommendation exists (agencies are the deployment's to know)."""
        return (
            self.fetchone(
                "SELECT 1 AS found FROM {p}_scopes WHERE scope = :scope AND scope_id = :scope_id",
                {"scope": scope, "scope_id": scope_id},
            )
            is not None
        )

    def summary(self, scope: str, scope_id: str, today: date) -> dict[str, Any]:
        """{total, by_status, by_rag, overdue} of one plan, recommendation or agency, overdue as at `today`."""
        rows = self.fetchall(
            "SELECT status, rag, due_date, n FROM {p}_counts WHERE scope = :scope AND scope_id = :scope_id",
            {"scope": scope, "scope_id": scope_id},
        )
        return summarise(rows, today)

    def summaries(self, scope: str, today: date, ids: Iterable[str] | None = None) -> dict[str, dict[str, Any]]:
        """scope_id -> summary for every known plan or recommendation, or every agency leading an action;
        given `ids`, for exactly those (all zeros where there are no actions)."""
        rows = self.fetchall(
            "SELECT scope_id, status, rag, due_date, n FROM {p}_counts WHERE scope = :scope", {"scope": scope}
        )
        known = self.fetchall("SELECT scope_id FROM {p}_scopes WHERE scope = :scope", {"scope": scope})
        wanted = list(ids) if ids is not None else [r["scope_id"] for r in known + rows]
        grouped: dict[str, list[dict[str, Any]]] = {scope_id: [] for scope_id in wanted}
        for row in rows:
            if row["scope_id"] in grouped:
                grouped[row["scope_id"]].append(row)
        return {scope_id: summarise(group, today) for scope_id, group in grouped.items()}


MATCH = " AND ".join(f"{column} = :{column}" for column in KEY)


def counted(action: Action) -> tuple[str, str, str, str]:
    """What decides where an action is counted: its lead agency, status, RAG and due date."""
    due = action.due_date.isoformat() if action.due_date else NONE
    return action.lead_agency, action.status, action.rag or NONE, due


def keys(action: Action) -> list[Key]:
    agency, status, rag, due = counted(action)
    scope_ids = (str(action.plan_id), str(action.recommendation_id), agency)
    return [(scope, scope_id, status, rag, due) for scope, scope_id in zip(SCOPES, scope_ids, strict=True)]


def summarise(rows: Iterable[dict[str, Any]], today: date) -> dict[str, Any]:
    """A summary from count rows {status, rag, due_date, n}; overdue decided by the domain as at `today`."""
    statuses: Counter[str] = Counter()
    rags: Counter[str] = Counter()
    overdue = 0
    for row in rows:
        n = int(row["n"])
        statuses[row["status"]] += n
        if row["rag"]:
            rags[row["rag"]] += n
        due = date.fromisoformat(row["due_date"]) if row["due_date"] else None
        overdue += n if is_overdue(due, row["status"], today) else 0
    return {
        "total": sum(statuses.values()),
        "by_status": {s: statuses[s] for s in STATUSES},
        "by_rag": {r: rags[r] for r in RAGS},
        "overdue": overdue,
    }


class Rollups(Projection[RollupsView]):
    """Projects actions' events onto counts per plan, recommendation and lead agency."""

    name = "rollups"
    view_class = RollupsView

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.view.write([domain_event], tracking)
