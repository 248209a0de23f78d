"""One SQL text for SQLite and PostgreSQL, and read-model views that write rows and position together.

SQL uses named `:params`, `{p}` for the view's table prefix (schema-qualified on PostgreSQL) and `{i}`
for index names; JSON and dates are stored as text, so both backends hold the same values.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

from eventsourcing.persistence import InfrastructureFactory, Tracking
from eventsourcing.postgres import PostgresFactory, PostgresTrackingRecorder
from eventsourcing.sqlite import SQLiteTrackingRecorder
from eventsourcing.utils import Environment

from adapters.ddl import ddl_lock

T = TypeVar("T")
PROGRESS_DDL = (
    "CREATE TABLE IF NOT EXISTS {p}_progress"
    " (prefix TEXT PRIMARY KEY, processed BIGINT NOT NULL, updated_at TEXT NOT NULL)"
)
_NAMED = re.compile(r"(?<![:\w]):([a-z_][a-z0-9_]*)")
_TRACKING = re.compile(r"\btracking\b")


class Superseded(Exception):
    """The view's position moved since the batch was read: another consumer applied it."""


class Sql:
    """Dialect-neutral statements on a library datastore (SQLite or PostgreSQL)."""

    prefix = ""
    is_postgres = False
    datastore: Any

    def sql(self, text: str) -> str:
        if not self.is_postgres:
            return text.replace("{p}", self.prefix).replace("{i}", self.prefix)
        schema = self.datastore.schema
        text = text.replace("{p}", f'"{schema}".{self.prefix}').replace("{i}", self.prefix)
        return _NAMED.sub(r"%(\1)s", text)

    def execute(self, c: Any, text: str, params: dict[str, Any] | None = None) -> None:
        c.execute(self.sql(text), params or {})

    def fetchall(self, text: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        with self.datastore.transaction(commit=False) as c:
            self.execute(c, text, params)
            return [dict(row) for row in c.fetchall()]

    def fetchone(self, text: str, params: dict[str, Any] | None = None) -> dict[str, Any] | None:
        rows = self.fetchall(text, params)
        return rows[0] if rows else None

    def run(self, statements: Sequence[str], params: dict[str, Any] | None = None) -> None:
        with self.datastore.transaction(commit=True) as c:
            for statement in statements:
                self.execute(c, statement, params)


class SqlView(Sql):
    """Mixin for a tracking recorder whose read-model tables, prefixed like its tracking table, sit beside it."""

    # Table name -> the columns that order its rows (for verify and rebuild).
    tables: dict[str, str] = {}

    def ddl(self) -> list[str]:
        raise NotImplementedError

    def create_table(self) -> None:
        if self.exists():
            return  # DDL on tables in use takes locks that can deadlock with running batches: skip it.
        super().create_table()  # type: ignore[misc]
        with self.datastore.transaction(commit=True) as c:
            for statement in [PROGRESS_DDL, *self.ddl()]:
                c.execute(self.sql(statement))
            self.execute(
                c,
                "INSERT INTO {p}_progress VALUES (:prefix, 0, :at) ON CONFLICT (prefix) DO NOTHING",
                {"prefix": self.prefix, "at": now()},
            )

    def exists(self) -> bool:
        """Whether this generation's tables were all created (the progress row is written last)."""
        try:
            return (
                self.fetchone("SELECT 1 AS found FROM {p}_progress WHERE prefix = :prefix", {"prefix": self.prefix})
                is not None
            )
        except Exception:
            return False

    def drop(self) -> None:
        self.run([f"DROP TABLE IF EXISTS {{p}}_{t}" for t in [*self.tables, "progress", "tracking"]])

    def write(self, events: Sequence[Any], tracking: Tracking, expected: int | None = None) -> None:
        """Apply a batch and record the position reached, in one transaction; exactly once.

        The progress row is updated first: it locks this view against other consumers (a row lock on
        PostgreSQL, the write lock on SQLite), so the position read next cannot move before commit.
        """
        with self.datastore.transaction(commit=True) as c:
            self.execute(
                c,
                "UPDATE {p}_progress SET processed = processed + :n, updated_at = :at WHERE prefix = :prefix",
                {"n": len(events), "at": now(), "prefix": self.prefix},
            )
            if expected is not None and (self._max_tracking_id(tracking.application_name, c) or 0) != expected:  # type: ignore[attr-defined]
                raise Superseded
            self.begin_batch(events, c)
            for domain_event in events:
                self.apply(domain_event, c)
            self.flush(c)
            self._insert_tracking(c, tracking)  # type: ignore[attr-defined]

    def processed(self) -> int:
        row = self.fetchone("SELECT processed FROM {p}_progress WHERE prefix = :prefix", {"prefix": self.prefix})
        return int(row["processed"]) if row else 0

    def rows(self, table: str) -> list[dict[str, Any]]:
        return self.fetchall(f"SELECT * FROM {{p}}_{table} ORDER BY {self.tables[table]}")

    def apply(self, domain_event: Any, c: Any) -> None:
        raise NotImplementedError

    def begin_batch(self, events: Sequence[Any], c: Any) -> None:
        """Called before a batch's events are applied: views that buffer or prefetch start here."""

    def flush(self, c: Any) -> None:
        """Called after a batch's events are applied, in the same transaction: buffered writes go here."""


class SQLiteViewRecorder(SQLiteTrackingRecorder):
    """The library's SQLite tracking recorder, with a tracking table of the view's own."""

    prefix = ""

    def __init__(self, datastore: Any, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        self.insert_tracking_statement = self._own(self.insert_tracking_statement)
        self.select_max_tracking_id_statement = self._own(self.select_max_tracking_id_statement)

    def construct_create_table_statements(self) -> list[str]:
        return [self._own(s) for s in super().construct_create_table_statements()]

    def _own(self, statement: str) -> str:
        return _TRACKING.sub(f"{self.prefix}_tracking", statement)


def views_factory(env: dict[str, str]) -> InfrastructureFactory[Any]:
    """One datastore for every read-model view of this process."""
    return InfrastructureFactory.construct(Environment("views", {**env, "CREATE_TABLE": "no"}))


def construct_view(factory: InfrastructureFactory[Any], base: type[T], prefix: str) -> T:
    """Build view `base` with tables named `<prefix>_...` on the factory's datastore, creating them if missing."""
    is_postgres = isinstance(factory, PostgresFactory)
    if is_postgres:
        cls = type(base.__name__, (base, PostgresTrackingRecorder), {"prefix": prefix, "is_postgres": True})
        view = cls(datastore=factory.datastore, tracking_table_name=f"{prefix}_tracking")
    else:
        cls = type(base.__name__, (base, SQLiteViewRecorder), {"prefix": prefix, "is_postgres": False})
        view = cls(datastore=factory.datastore)
    with one_at_a_time(factory):
        view.create_table()
    return cast(T, view)


@contextmanager
def one_at_a_time(factory: InfrastructureFactory[Any]) -> Iterator[None]:
    """Several processes may start at once, and PostgreSQL's CREATE TABLE IF NOT EXISTS races: serialise."""
    if not isinstance(factory, PostgresFactory):
        yield
        return
    with factory.datastore.get_connection() as conn, ddl_lock(conn):
        yield


def now() -> str:
    return datetime.now(UTC).isoformat()


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True, default=str)


def loads(value: str | None) -> Any:
    return json.loads(value) if value else None
