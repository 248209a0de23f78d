"""Each plan's committee and board meetings, in date order: what reminders and the chase list count from."""

from __future__ import annotations

from collections.abc import Sequence
from functools import singledispatchmethod
from typing import Any

from domain.plan import Plan
from projections.view import SqlView

COLUMNS = ("id", "plan_id", "date", "title", "updates_due", "scheduled_at")


class MeetingsView(SqlView):
    weight = 0.1
    tables = {"meetings": "id"}
    indexes = ("meetings_plan",)

    def ddl(self) -> list[str]:
        return [
            "CREATE TABLE IF NOT EXISTS {t.meetings} (id TEXT PRIMARY KEY, plan_id TEXT NOT NULL, date TEXT NOT NULL,"
            " title TEXT NOT NULL, updates_due TEXT NOT NULL, scheduled_at TEXT NOT NULL)",
            "CREATE INDEX IF NOT EXISTS {i.meetings_plan} ON {t.meetings} (plan_id, date)",
        ]

    def begin(self, events: Sequence[Any], c: Any) -> list[tuple[str, ...]]:
        return []

    @singledispatchmethod
    def apply(self, domain_event: Any, batch: list[tuple[str, ...]]) -> None:
        """Other events change nothing here (their position is still recorded)."""

    @apply.register
    def _(self, e: Plan.MeetingScheduled, batch: list[tuple[str, ...]]) -> None:  # type: ignore[name-defined]
        batch.append(
            (
                str(e.meeting_id),
                str(e.originator_id),
                e.meeting_date.isoformat(),
                e.title,
                e.updates_due.isoformat(),
                e.timestamp.isoformat(),
            )
        )

    def flush(self, batch: list[tuple[str, ...]], c: Any) -> None:
        self.db.dialect.insert_many(c, self.db.tables.meetings, COLUMNS, batch)

    # Reading.

    def meetings(self, plan_id: str | None = None) -> list[dict[str, Any]]:
        """A plan's meetings (or every plan's), in date order: id, plan_id, date, title, updates_due (ISO dates)."""
        columns = "id, plan_id, date, title, updates_due, scheduled_at"
        if plan_id is None:
            return self.db.fetchall("SELECT " + columns + " FROM {t.meetings} ORDER BY date, scheduled_at")
        return self.db.fetchall(
            "SELECT " + columns + " FROM {t.meetings} WHERE plan_id = {plan_id} ORDER BY date, scheduled_at",
            {"plan_id": plan_id},
        )
