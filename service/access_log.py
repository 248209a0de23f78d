"""The access log (api-contract.md, Audit): who read which action's history or time-travel view, when, and why.

Append-only: rows are inserted, never updated or deleted; a trigger refuses UPDATE, DELETE (and, on PostgreSQL,
TRUNCATE). It holds ids, roles and the caller's stated purpose, never case text.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from eventsourcing.persistence import InfrastructureFactory

from adapters.sql import Database, database, dumps, instant, loads, one_at_a_time
from domain.errors import NotPermitted
from domain.principals import COORDINATOR, INSPECTOR, Principal

PURPOSE_MAX = 500
READERS = (COORDINATOR, INSPECTOR)
COLUMNS = "at, user_id, user_name, agency, role, what, action_id, plan_id, purpose, params"
VALUES = "{at}, {user_id}, {user_name}, {agency}, {role}, {what}, {action_id}, {plan_id}, {purpose}, {params}"
SQLITE_DDL = (
    "CREATE TABLE IF NOT EXISTS {t.access_log} (id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL,"
    " user_id TEXT NOT NULL, user_name TEXT NOT NULL, agency TEXT NOT NULL, role TEXT NOT NULL, what TEXT NOT NULL,"
    " action_id TEXT, plan_id TEXT, purpose TEXT, params TEXT)",
    "CREATE TRIGGER IF NOT EXISTS {i.access_log_no_update} BEFORE UPDATE ON {t.access_log}"
    " BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS {i.access_log_no_delete} BEFORE DELETE ON {t.access_log}"
    " BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END",
)
POSTGRES_DDL = (
    "CREATE TABLE IF NOT EXISTS {t.access_log} (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, at TEXT NOT NULL,"
    " user_id TEXT NOT NULL, user_name TEXT NOT NULL, agency TEXT NOT NULL, role TEXT NOT NULL, what TEXT NOT NULL,"
    " action_id TEXT, plan_id TEXT, purpose TEXT, params TEXT)",
    "CREATE OR REPLACE FUNCTION {t.access_log_append_only}() RETURNS trigger LANGUAGE plpgsql AS"
    " $$ BEGIN RAISE EXCEPTION 'the access log is append-only'; END $$",
    "CREATE OR REPLACE TRIGGER {i.access_log_append_only} BEFORE UPDATE OR DELETE ON {t.access_log}"
    " FOR EACH ROW EXECUTE FUNCTION {t.access_log_append_only}()",
    "CREATE OR REPLACE TRIGGER {i.access_log_no_truncate} BEFORE TRUNCATE ON {t.access_log}"
    " FOR EACH STATEMENT EXECUTE FUNCTION {t.access_log_append_only}()",
)
INDEXES = (
    "CREATE INDEX IF NOT EXISTS {i.access_log_action} ON {t.access_log} (action_id, id)",
    "CREATE INDEX IF NOT EXISTS {i.access_log_at} ON {t.access_log} (at)",
)


def check_may_read(reader: Principal) -> None:
    if reader.role not in READERS:
        raise NotPermitted("only coordinators and inspectors may read the access log")


NAMES = (
    "access_log",
    "access_log_no_update",
    "access_log_no_delete",
    "access_log_append_only",
    "access_log_no_truncate",
    "access_log_action",
    "access_log_at",
)


class AccessLog:
    """Reads of histories and time-travel views, in the event store's database, in the order they were made."""

    def __init__(self, factory: InfrastructureFactory[Any], clock: Callable[[], datetime]) -> None:
        self.db: Database = database(factory, "accord", NAMES)
        self.clock = clock
        with one_at_a_time(factory):
            self.db.run([*(POSTGRES_DDL if self.db.dialect.postgres else SQLITE_DDL), *INDEXES])

    def record(  # noqa: PLR0913
        self,
        reader: dict[str, Any],
        what: str,
        *,
        action_id: str | None = None,
        plan_id: str | None = None,
        purpose: str | None = None,
        params: dict[str, str] | None = None,
    ) -> None:
        """Append one read: `reader` is the principal as recorded on events (user_id, name, agency, role)."""
        self.db.run(
            ["INSERT INTO {t.access_log} (" + COLUMNS + ") VALUES (" + VALUES + ")"],
            {
                "at": instant(self.clock()),
                "user_id": reader["user_id"],
                "user_name": reader["name"],
                "agency": reader["agency"],
                "role": reader["role"],
                "what": what,
                "action_id": action_id,
                "plan_id": plan_id,
                "purpose": purpose,
                "params": dumps(params) if params else None,
            },
        )

    def entries(
        self, *, action_id: str | None = None, user: str | None = None, since: datetime | None = None, limit: int = 1000
    ) -> list[dict[str, Any]]:
        """The reads that match every filter given, oldest first; `user` is a user's id or exact name."""
        where: list[str] = ["1 = 1"]
        params: dict[str, Any] = {"limit": limit}
        if action_id is not None:
            where.append("action_id = {action_id}")
            params["action_id"] = action_id
        if user is not None:
            where.append("(user_id = {user} OR user_name = {user})")
            params["user"] = user
        if since is not None:
            where.append("at >= {since}")
            params["since"] = instant(since)
        rows = self.db.fetchall(
            "SELECT * FROM {t.access_log} WHERE " + " AND ".join(where) + " ORDER BY id LIMIT {limit}", params
        )
        return [entry(row) for row in rows]


def entry(row: dict[str, Any]) -> dict[str, Any]:
    item: dict[str, Any] = {
        "at": row["at"],
        "user": {"id": row["user_id"], "name": row["user_name"], "agency": row["agency"], "role": row["role"]},
        "what": row["what"],
        "purpose": row["purpose"],
    }
    for optional in ("action_id", "plan_id"):
        if row[optional] is not None:
            item[optional] = row[optional]
    if row["params"]:
        item["params"] = loads(row["params"])
    return item
