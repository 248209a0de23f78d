"""Read-model SQL on the eventsourcing library's datastores, SQLite or PostgreSQL, chosen once per process.

A statement is one text for both backends, a `str.format` template: `{t.plans}` names a table of the
caller's fixed allow-list (a `Tables`; `t`, `i` and `bytewise_text` are reserved: the last is the type of a
text column that compares byte by byte, for ISO dates and times and ids, `TEXT COLLATE "C"` on PostgreSQL
and `TEXT` on SQLite, whose text compares so already), anything else in braces is a parameter,
rendered as the driver's own placeholder and bound by the driver. Nothing from input ever becomes an
identifier: table names are the allow-list's keys under a prefix the code chose, checked to be plain
lower-case identifiers.
JSON and dates are stored as text, so both backends hold the same values.
"""

from __future__ import annotations

import fcntl
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from json.encoder import c_make_encoder, encode_basestring_ascii  # type: ignore[attr-defined]
from pathlib import Path
from typing import Any

from eventsourcing.persistence import InfrastructureFactory
from eventsourcing.postgres import PostgresDatastore
from eventsourcing.utils import Environment

from adapters.ddl import ddl_lock


def is_postgres(store: InfrastructureFactory[Any]) -> bool:
    """The one dialect switch: whether the library built this datastore for PostgreSQL (else SQLite)."""
    return isinstance(store.datastore, PostgresDatastore)  # type: ignore[attr-defined]


def identifier(name: str) -> str:
    """A table name the code composed (prefix + allow-listed name), refused unless plainly lower-case."""
    if not (name.isidentifier() and name.isascii() and name == name.lower() and len(name) <= 63):
        raise ValueError(f"not a plain table name: {name!r}")
    return name


@dataclass(frozen=True)
class Dialect:
    """How SQLite and PostgreSQL differ for Accord: placeholders, qualified names, bulk insert."""

    postgres: bool
    schema: str = "public"

    def placeholder(self, name: str) -> str:
        return f"%({name})s" if self.postgres else f":{name}"

    def table(self, name: str) -> str:
        return f'"{self.schema}"."{identifier(name)}"' if self.postgres else f'"{identifier(name)}"'

    @property
    def commit_without_waiting(self) -> str:
        """What turns `synchronous_commit` off for a transaction, as a further column of a statement's `RETURNING`
        (a statement less): PostgreSQL only, for derived data whose last commits may be lost in a crash."""
        return ", set_config('synchronous_commit', 'off', true)" if self.postgres else ""

    def in_list(self, name: str) -> str:
        """`column {in_ids}` in templates: the column's value is one of the list bound as `ids` (`as_list`)."""
        if self.postgres:
            return f"= ANY(%({name})s)"
        return f"IN (SELECT value FROM json_each(:{name}))"

    def as_list(self, values: Sequence[Any]) -> Any:
        return list(values) if self.postgres else json.dumps(list(values))

    def insert_many(self, c: Any, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        """Append rows in one go: COPY on PostgreSQL, one prepared executemany on SQLite; no rows, no statement."""
        rows = rows if isinstance(rows, list) else list(rows)
        if not rows:
            return
        names = ", ".join(identifier(column) for column in columns)
        if self.postgres:
            with c.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" for _ in columns)
            c.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)

    def update_many(
        self, c: Any, table: str, keys: Mapping[str, str], values: Mapping[str, str], rows: Sequence[Mapping[str, Any]]
    ) -> None:
        """Set the `values` columns of the rows found by the `keys` columns (each column with its SQL type), for
        many rows: on PostgreSQL one statement over arrays (`unnest`), where one statement per row paid each
        statement's start-up (dear on a table with a generated column) every time; on SQLite one prepared
        executemany. No rows, no statement."""
        if not rows:
            return
        columns = {**keys, **values}
        for column in columns:
            identifier(column)
        if self.postgres:
            # Arrays of other types than text go through text: a type's own array syntax may separate its elements
            # otherwise (a box's by ';').
            arrays = ", ".join(
                f"%({column})s::{kind}[]" if kind == "text" else f"%({column})s::text[]::{kind}[]"
                for column, kind in columns.items()
            )
            c.execute(
                f"UPDATE {table} AS t SET {', '.join(f'{column} = v.{column}' for column in values)}"
                f" FROM unnest({arrays}) AS v({', '.join(columns)})"
                f" WHERE {' AND '.join(f't.{column} = v.{column}' for column in keys)}",
                {column: [row[column] for row in rows] for column in columns},
            )
        else:
            c.executemany(
                f"UPDATE {table} SET {', '.join(f'{column} = :{column}' for column in values)}"
                f" WHERE {' AND '.join(f'{column} = :{column}' for column in keys)}",
                rows,
            )


class Tables:
    """A fixed allow-list of names: `{t.name}` in templates is table `prefix_name` in the dialect's quoting,
    schema-qualified on PostgreSQL; `{i.name}` is the bare `"prefix_name"` (for indexes and triggers)."""

    def __init__(self, dialect: Dialect, prefix: str, names: Iterable[str], *, qualified: bool = True) -> None:
        self.prefix = prefix
        self.names = tuple(names)
        self._names = {
            name: dialect.table(self.name(name)) if qualified else f'"{identifier(self.name(name))}"'
            for name in self.names
        }
        self.bare = self if not qualified else Tables(dialect, prefix, self.names, qualified=False)

    def name(self, name: str) -> str:
        return f"{self.prefix}_{name}" if self.prefix else name

    def __getattr__(self, name: str) -> str:
        try:
            return self._names[name]
        except KeyError:
            raise AttributeError(f"no table {name!r} in this allow-list") from None


class _Rendering(dict[str, Any]):
    def __init__(self, tables: Tables, dialect: Dialect) -> None:
        # The database's own collation (C.UTF-8, en_GB.UTF-8...) compares through the C library, two to three
        # times the work of comparing bytes, at every step of an index probe.
        super().__init__(t=tables, i=tables.bare, bytewise_text='TEXT COLLATE "C"' if dialect.postgres else "TEXT")
        self.dialect = dialect

    def __missing__(self, key: str) -> str:
        if key.startswith("in_"):
            return self.dialect.in_list(key.removeprefix("in_"))
        return self.dialect.placeholder(key)


@dataclass
class Database:
    """Statements on one library datastore, with tables from one allow-list."""

    datastore: Any
    dialect: Dialect
    tables: Tables
    _rendered: dict[str, str] = field(default_factory=dict, repr=False)

    def sql(self, template: str) -> str:
        rendered = self._rendered.get(template)
        if rendered is None:
            rendered = self._rendered[template] = template.format_map(_Rendering(self.tables, self.dialect))
        return rendered

    @contextmanager
    def transaction(self, *, commit: bool) -> Iterator[Any]:
        with self.datastore.transaction(commit=commit) as c:
            yield c

    @contextmanager
    def reading(self) -> Iterator[Any]:
        """A read's transaction: one snapshot, nothing written. On PostgreSQL it ends in COMMIT, as psycopg forgets
        a connection's prepared statements at every ROLLBACK (reads ending so were parsed and planned afresh each
        time); on SQLite a committing transaction would wait for the writer's connection."""
        with self.transaction(commit=self.dialect.postgres) as c:
            yield c

    def fetch_together(
        self, *reads: tuple[str, Mapping[str, Any]], planner: Mapping[str, str] | None = None
    ) -> list[list[dict[str, Any]]]:
        """Several reads in one snapshot: on PostgreSQL sent together, with their BEGIN and COMMIT (pipeline
        mode: two round trips in all, where one at a time took one each), and `planner` settings for this
        transaction alone (`set_config(name, value, true)`; SQLite has none)."""
        if not self.dialect.postgres:
            with self.reading() as c:
                results = []
                for template, params in reads:
                    self.execute(c, template, params)
                    results.append(c.fetchall())
                return results
        with self.datastore.get_connection() as conn, conn.pipeline(), conn.transaction():
            for name, value in (planner or {}).items():
                conn.execute("SELECT set_config(%s, %s, true)", (name, value))
            cursors = [conn.execute(self.sql(template), params) for template, params in reads]
            return [cursor.fetchall() for cursor in cursors]

    def execute(self, c: Any, template: str, params: Mapping[str, Any] | None = None) -> None:
        c.execute(self.sql(template), params or {})

    def executemany(self, c: Any, template: str, rows: Sequence[Mapping[str, Any]]) -> None:
        if rows:
            c.executemany(self.sql(template), rows)

    def fetchall(self, template: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        with self.reading() as c:
            self.execute(c, template, params)
            return [dict(row) for row in c.fetchall()]

    def fetchone(self, template: str, params: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
        rows = self.fetchall(template, params)
        return rows[0] if rows else None

    def run(self, templates: Sequence[str], params: Mapping[str, Any] | None = None) -> None:
        with self.transaction(commit=True) as c:
            for template in templates:
                self.execute(c, template, params)


def factory(env: Mapping[str, str], name: str) -> InfrastructureFactory[Any]:
    """A library datastore for read models (tables created by their owners, never by the library)."""
    return InfrastructureFactory.construct(Environment(name, {**env, "CREATE_TABLE": "no"}))


def database(store: InfrastructureFactory[Any], prefix: str, names: Iterable[str]) -> Database:
    datastore = store.datastore  # type: ignore[attr-defined]
    postgres = is_postgres(store)
    dialect = Dialect(postgres=postgres, schema=datastore.schema if postgres else "main")
    return Database(datastore, dialect, Tables(dialect, prefix, names))


def sqlite_file(env: Mapping[str, str], suffix: str) -> dict[str, str]:
    """The environment of a SQLite file beside the one `env` names: `accord.views.db` -> `accord.views.<suffix>.db`."""
    path = Path(env["SQLITE_DBNAME"])
    return {**env, "SQLITE_DBNAME": str(path.with_name(f"{path.stem}.{identifier(suffix)}{path.suffix}"))}


def remove_sqlite_file(env: Mapping[str, str]) -> None:
    path = Path(env["SQLITE_DBNAME"])
    for extra in ("", "-wal", "-shm", "-journal"):
        path.with_name(path.name + extra).unlink(missing_ok=True)


@contextmanager
def one_at_a_time(store: InfrastructureFactory[Any]) -> Iterator[None]:
    """Several processes (or threads) may start at once, and creating tables races: serialise DDL.

    PostgreSQL: one advisory lock. SQLite: one lock file in the databases' folder (held with flock).
    """
    datastore = store.datastore  # type: ignore[attr-defined]
    if not is_postgres(store):
        db_name = datastore.pool.db_name
        if datastore.pool.is_sqlite_memory_mode:
            yield
            return
        with open(Path(db_name).with_name(".accord-ddl.lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
        return
    with datastore.get_connection() as conn, ddl_lock(conn):
        yield


def instant(moment: datetime) -> str:
    """Instants as UTC text of one width, so that comparing the text compares the instants, on both backends."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def now() -> str:
    return datetime.now(UTC).isoformat()


# One encoder for every call: `json.dumps` with options builds a new one each time (a third of its cost).
_encoder = json.JSONEncoder(separators=(",", ":"), sort_keys=True, default=str)
# The same encoding, by the json module's C encoder made once (`JSONEncoder.encode` makes one at every call, a
# quarter of its time for a state), without its check for circular references: what is stored here is built by
# Accord's own code from events, never a structure that contains itself.
_encode = (
    c_make_encoder(None, str, encode_basestring_ascii, None, ":", ",", True, False, True) if c_make_encoder else None
)


def dumps(value: Any) -> str:
    """JSON as Accord stores it: compact, keys sorted, ASCII, anything else (a day) as its text."""
    if _encode is None or isinstance(value, str):
        return _encoder.encode(value)
    return "".join(_encode(value, 0))


def loads(value: str | None) -> Any:
    return json.loads(value) if value else None


def loads_all(values: Sequence[str]) -> list[Any]:
    """Many JSON texts (none empty) decoded in one parse: for a small text, json.loads' own overhead is about
    as much as the parse."""
    return json.loads("[" + ",".join(values) + "]")
