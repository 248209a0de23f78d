"""One SQL text for SQLite and PostgreSQL: named `:params`, JSON and dates stored as text."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any, TypeVar, cast

from eventsourcing.persistence import InfrastructureFactory
from eventsourcing.postgres import PostgresFactory, PostgresTrackingRecorder
from eventsourcing.sqlite import SQLiteTrackingRecorder
from eventsourcing.utils import Environment

T = TypeVar("T")

_NAMED = re.compile(r"(?<![:\w]):([a-z_]+)")


class SqlView:
    """Mixin for a tracking recorder whose read-model tables live beside its tracking table."""

    prefix = ""
    is_postgres = False
    datastore: Any  # Given by the SQLite or PostgreSQL tracking recorder this is mixed into.

    def ddl(self) -> list[str]:
        raise NotImplementedError

    def create_table(self) -> None:
        super().create_table()  # type: ignore[misc]
        with self.datastore.transaction(commit=True) as c:
            if self.is_postgres:  # Several processes may start at once: create tables one at a time.
                c.execute("SELECT pg_advisory_xact_lock(hashtext('accord-ddl'))")
            for statement in self.ddl():
                c.execute(self.sql(statement))

    def sql(self, text: str) -> str:
        """`{p}` prefixes a table name (schema-qualified on PostgreSQL), `{i}` an index name."""
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

    def write(self, events: Iterable[Any], tracking: Any) -> None:
        """Apply a batch of events and record the position reached, in one transaction."""
        with self.datastore.transaction(commit=True) as c:
            for domain_event in events:
                self.apply(domain_event, c)
            self._insert_tracking(c, tracking)

    def apply(self, domain_event: Any, c: Any) -> None:
        raise NotImplementedError


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), default=str)


def loads(value: str | None) -> Any:
    return json.loads(value) if value else None


def construct_view(base: type[T], name: str, env: dict[str, str]) -> T:
    """Build view `base` on the backend `env` names, its tables prefixed with `name`, created if missing."""
    factory = InfrastructureFactory.construct(Environment(name, env))
    is_postgres = isinstance(factory, PostgresFactory)
    recorder = PostgresTrackingRecorder if is_postgres else SQLiteTrackingRecorder
    cls = type(base.__name__, (base, recorder), {"prefix": name, "is_postgres": is_postgres})
    return cast(T, factory.tracking_recorder(cls))
