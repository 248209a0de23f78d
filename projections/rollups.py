"""Counts of actions by status, RAG and overdue, per plan, per recommendation and per lead agency.

Overdue changes as days pass with no event, so it is never stored: the view keeps how many actions
share each (status, rag, due_date) in each scope and decides at read time which of them are overdue.
Every event moves its action from the key it had before to the key it has after (both folded by the
domain's own code), so updates, lead changes and retractions all keep the counts right.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import singledispatchmethod
from typing import Any

from domain.action import Action
from domain.plan import Plan
from domain.timeline import RAGS, STATUSES, is_overdue
from projections.actions import ActionView, IdTexts, id_number

PLAN, RECOMMENDATION, AGENCY = "plan", "recommendation", "agency"
SCOPES = (PLAN, RECOMMENDATION, AGENCY)
KEY = ("scope", "scope_id", "status", "rag", "due_date")
NONE = ""  # Stands for a missing rag or due date, so that both can be part of the primary key.

Key = tuple[str, str, str, str, str]
Where = tuple[str, str, str | None, date | None]  # An action's place in the counts: its `counted` fields.


@dataclass
class Batch:
    scopes: list[tuple[str, str]] = field(default_factory=list)
    deltas: Counter[Key] = field(default_factory=Counter)
    ids: IdTexts = field(default_factory=IdTexts)
    # The actions the batch changes: where each was counted before the batch (None: raised in it).
    touched: dict[int, Where | None] = field(default_factory=dict)  # By `id_number`.

    def move(self, old: list[Key], new: list[Key]) -> None:
        """One action leaves the `old` keys and joins the `new` (a key in both nets nothing)."""
        deltas = self.deltas
        for key in old:
            deltas[key] -= 1
        for key in new:
            deltas[key] += 1

    def keys(self, action: Action, where: Where | None = None) -> list[Key]:
        """The counts an action is part of: one per scope, under its place (by default, where it is now)."""
        agency, status, rag, due = where or counted(action.state)
        scope_ids = (self.ids.of(action.plan_id), self.ids.of(action.recommendation_id), agency)
        rag, due = rag or NONE, due.isoformat() if due else NONE
        return [(scope, scope_id, status, rag, due) for scope, scope_id in zip(SCOPES, scope_ids, strict=True)]


class RollupsView(ActionView):
    weight = 1.2
    tables = {
        "scopes": "scope, scope_id",
        "counts": ", ".join(KEY),
    }

    def ddl(self) -> list[str]:
        return [
            # The plans and recommendations that exist, with or without actions.
            "CREATE TABLE IF NOT EXISTS {t.scopes} (scope TEXT NOT NULL, scope_id TEXT NOT NULL,"
            " PRIMARY KEY (scope, scope_id))",
            "CREATE TABLE IF NOT EXISTS {t.counts} (scope TEXT NOT NULL, scope_id TEXT NOT NULL,"
            " status TEXT NOT NULL, rag TEXT NOT NULL, due_date TEXT NOT NULL, n INTEGER NOT NULL,"
            " PRIMARY KEY (scope, scope_id, status, rag, due_date))",
        ]

    # Writing: each action the batch changes moves once in memory, then each changed count is written once.

    def begin(self, events: Sequence[Any], c: Any) -> Batch:
        return Batch()

    def flush(self, batch: Batch, c: Any) -> None:
        # Each action moves once, from where it was counted before the batch to where it is after it.
        for action_id, was in batch.touched.items():
            action = self.actions.by_id[action_id]
            now = counted(action.state)
            if was != now:  # Progress, impact, evidence, a lead person: no count moves.
                batch.move(batch.keys(action, was) if was else [], batch.keys(action, now))
        self.db.dialect.insert_many(c, self.db.tables.scopes, ("scope", "scope_id"), batch.scopes)
        changes = [dict(zip(KEY, key, strict=True), n=n) for key, n in sorted(batch.deltas.items()) if n]
        self.db.executemany(
            c,
            "INSERT INTO {t.counts} VALUES ({scope}, {scope_id}, {status}, {rag}, {due_date}, {n})"
            " ON CONFLICT (scope, scope_id, status, rag, due_date) DO UPDATE SET n = {t.counts}.n + {n}",
            changes,
        )
        self.db.executemany(
            c,
            "DELETE FROM {t.counts} WHERE scope = {scope} AND scope_id = {scope_id} AND status = {status}"
            " AND rag = {rag} AND due_date = {due_date} AND n <= 0",
            [change for change in changes if change["n"] < 0],
        )

    @singledispatchmethod
    def apply(self, domain_event: Any, batch: Batch) -> None:
        """Events that change no count change nothing (their position is still recorded)."""

    @apply.register
    def _(self, e: Plan.Created, batch: Batch) -> None:
        batch.scopes.append((PLAN, str(e.originator_id)))

    @apply.register
    def _(self, e: Plan.RecommendationAdded, batch: Batch) -> None:
        batch.scopes.append((RECOMMENDATION, str(e.recommendation_id)))

    @apply.register
    def _(self, e: Action.Raised, batch: Batch) -> None:
        self.actions.raised(e)
        batch.touched[id_number(e)] = None

    @apply.register
    def _(self, e: Action.Event, batch: Batch) -> None:
        action = self.actions.get(e)
        if (k := id_number(e)) not in batch.touched:
            batch.touched[k] = counted(action.state)
        e.mutate(action)

    # Reading.

    def known(self, scope: str, scope_id: str) -> bool:
        """Whether the plan or recommendation exists (agencies are the deployment's to know)."""
        return (
            self.db.fetchone(
                "SELECT 1 AS found FROM {t.scopes} WHERE scope = {scope} AND scope_id = {scope_id}",
                {"scope": scope, "scope_id": scope_id},
            )
            is not None
        )

    def summary(self, scope: str, scope_id: str, today: date) -> dict[str, Any]:
        """{total, by_status, by_rag, overdue} of one plan, recommendation or agency, overdue as at `today`."""
        rows = self.db.fetchall(
            "SELECT status, rag, due_date, n FROM {t.counts} WHERE scope = {scope} AND scope_id = {scope_id}",
            {"scope": scope, "scope_id": scope_id},
        )
        return summarise(rows, today)

    def summaries(self, scope: str, today: date, ids: Iterable[str] | None = None) -> dict[str, dict[str, Any]]:
        """scope_id -> summary for every known plan or recommendation, or every agency leading an action;
        given `ids`, for exactly those (all zeros where there are no actions)."""
        rows = self.db.fetchall(
            "SELECT scope_id, status, rag, due_date, n FROM {t.counts} WHERE scope = {scope}", {"scope": scope}
        )
        known = self.db.fetchall("SELECT scope_id FROM {t.scopes} WHERE scope = {scope}", {"scope": scope})
        wanted = list(ids) if ids is not None else [r["scope_id"] for r in known + rows]
        grouped: dict[str, list[dict[str, Any]]] = {scope_id: [] for scope_id in wanted}
        for row in rows:
            if row["scope_id"] in grouped:
                grouped[row["scope_id"]].append(row)
        return {scope_id: summarise(group, today) for scope_id, group in grouped.items()}


def counted(state: dict[str, Any]) -> Where:
    """What decides where an action is counted: its lead agency, status, RAG and due date."""
    return state["lead_agency"], state["status"], state["rag"], state["due_date"]


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
