"""Each plan's committee and board meetings, in date order: what reminders and the chase list count from."""

from __future__ import annotations

from functools import singledispatchmethod
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.projection import Projection

from domain.plan import Plan
from projections.sql import SqlView

COLUMNS = "id, plan_id, date, title, updates_due, scheduled_at"


class MeetingsView(SqlView):
    tables = {"meetings": "id"}

    def ddl(self) -> list[str]:
        return [
            "CREATE TABLE IF NOT EXISTS {p}_meetings (id TEXT PRIMARY KEY, plan_id TEXT NOT NULL, date TEXT NOT NULL,"
            " title TEXT NOT NULL, updates_due TEXT NOT NULL, scheduled_at TEXT NOT NULL)",
            "CREATE INDEX IF NOT EXISTS {i}_meetings_plan ON {p}_meetings (plan_id, date)",
        ]

    @singledispatchmethod
    def apply(self, domain_event: Any, c: Any) -> None:
        """Other events change nothing here (their position is still recorded)."""

    @apply.register
    def _(self, e: Plan.MeetingScheduled, c: Any) -> None:  # type: ignore[name-defined]
        self.execute(
            c,
            f"INSERT INTO {{p}}_meetings ({COLUMNS}) VALUES (:id, :plan_id, :date, :title, :updates_due, :at)"
            " ON CONFLICT (id) DO NOTHING",
            {
                "id": str(e.meeting_id),
                "plan_id": str(e.originator_id),
                "date": e.meeting_date.isoformat(),
                "title": e.title,
                "updates_due": e.updates_due.isoformat(),
                "at": e.timestamp.isoformat(),
            },
        )

    # Reading.

    def meetings(self, plan_id: str | None = None) -> list[dict[str, Any]]:
        """A plan's meetings (or every plan's), in date order: id, plan_id, date, title, updates_due (ISO dates)."""
        where = "WHERE plan_id = :plan_id " if plan_id else ""
        return self.fetchall(
            f"SELECT {COLUMNS} FROM {{p}}_meetings {where}ORDER BY date, scheduled_at", {"plan_id": plan_id}
        )


class Meetings(Projection[MeetingsView]):
    """Projects the plans' MeetingScheduled events."""

    name = "meetings"
    view_class = MeetingsView

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.view.write([domain_event], tracking)
