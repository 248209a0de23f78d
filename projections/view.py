"""A read-model view: its tables, its position (the library's tracking recorder), and the one way to write.

`SqlView.write` applies a batch of events and records the position reached in one transaction, exactly
once: it first moves the view's position from the one the batch was read at to the batch's last, a
compare-and-set on the view's progress row that also locks the view against other consumers; if the
position moved meanwhile, another consumer applied the batch and `Superseded` is raised.

On PostgreSQL every view lives in one schema, its tables named `<name>_<generation>_...` and its
tracking table passed to the library's `PostgresTrackingRecorder`; on SQLite, whose tracking recorder
has one fixed table name, each view generation has a file of its own.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import singledispatchmethod
from typing import Any, ClassVar

from eventsourcing.persistence import InfrastructureFactory, IntegrityError, Tracking, TrackingRecorder
from eventsourcing.postgres import PostgresTrackingRecorder
from eventsourcing.sqlite import SQLiteTrackingRecorder

from adapters.sql import Database, database, factory, now, one_at_a_time, remove_sqlite_file, sqlite_file

PROGRESS = "progress"
# (aggregate id, version) -> the aggregate at that version, folded from the event store.
Load = Callable[[Any, int], Any]


class Superseded(Exception):
    """The view's position moved since the batch was read: another consumer applied it."""


@dataclass(frozen=True)
class Place:
    """Where a view generation's tables are: the views' environment and the prefix of this generation."""

    env: dict[str, str]
    prefix: str  # `<projection>_g<generation>` (`_s<shape>` after): all chosen by the code, never by input.
    postgres: bool

    @classmethod
    def of(cls, env: dict[str, str], name: str, generation: int | str, shape: int, postgres: bool) -> Place:
        return cls(env, f"{name}_g{generation}" + (f"_s{shape}" if shape > 1 else ""), postgres)

    def own_store(self) -> InfrastructureFactory[Any]:
        """A datastore for this view alone: on SQLite, its own file."""
        env = self.env if self.postgres else sqlite_file(self.env, self.prefix)
        return factory(env, "views")


class SqlView:
    """Base of every view: subclasses name their tables (with the columns that order their rows) and DDL,
    apply a batch's events with `apply_batch`, and read with `self.db`."""

    # Table name -> the columns that order its rows (for verify); the view's whole allow-list.
    tables: ClassVar[dict[str, str]] = {}
    indexes: ClassVar[tuple[str, ...]] = ()  # Names of its indexes (the rest of its allow-list).
    # Whether what it keeps in memory between batches is brought forward by events others applied (`advance`).
    advances: ClassVar[bool] = False
    # Whether each row it writes and all it keeps in memory is one aggregate's own, folded from that aggregate's
    # events alone: then a fresh generation can be built by several processes at once (projections/shares.py).
    by_aggregate: ClassVar[bool] = False
    # What applying an event costs it, beside reading and decoding it, relative to current_status (from `bench
    # rebuild`): how a worker far behind shares the projections out between processes (workers/start.py).
    weight: ClassVar[float] = 1.0
    # The shape of its tables: one that changes is built afresh, under names of its own (`Place.of`), from the
    # event store, where the old shape's tables stay as they were until dropped.
    shape: ClassVar[int] = 1

    def __init__(
        self,
        place: Place,
        store: InfrastructureFactory[Any] | None = None,
        load: Load | None = None,
    ) -> None:
        """On `store` if given (PostgreSQL: the views' shared datastore), else on a datastore of its own."""
        self.place = place
        self.load = load  # From the event store: the library's repository, at a version (`Runner.__init__`).
        # The position this consumer last wrote or brought its memory forward to (`Runner.bring_forward`).
        self.at: int | None = None
        self.handlers: dict[type[Any], Callable[[Any, Any], None]] = {}  # By event class (`handler`).
        self.owns_store = store is None
        self.store = store or place.own_store()
        prefix = place.prefix if place.postgres else ""
        self.db: Database = database(self.store, prefix, [*self.tables, *self.indexes, PROGRESS])
        datastore = self.store.datastore  # type: ignore[attr-defined]
        self.tracking: TrackingRecorder = (
            PostgresTrackingRecorder(datastore, tracking_table_name=f"{place.prefix}_tracking")
            if place.postgres
            else SQLiteTrackingRecorder(datastore)
        )

    def ddl(self) -> list[str]:
        raise NotImplementedError

    def reading_ddl(self) -> list[str]:
        """The indexes only readers use (its writes never do): a generation built where nobody reads it yet (a
        rebuild, a verify) is created without them, and a rebuild builds them in one pass once it has caught up
        (`index`), where each row written would otherwise update them one by one; unless it is built in shares
        (projections/shares.py), whose processes keep them up as they write, each on a core of its own."""
        return []

    def create(self, reading: bool = True) -> None:
        if self.exists():
            return  # DDL on tables in use takes locks that can deadlock with running batches: skip it.
        with one_at_a_time(self.store):
            if self.exists():
                return  # Another process created them while this one waited.
            self.tracking.create_table()
            with self.db.transaction(commit=True) as c:
                for statement in self.ddl() + (self.reading_ddl() if reading else []):
                    self.db.execute(c, statement)
                self.db.execute(
                    c,
                    "CREATE TABLE IF NOT EXISTS {t.progress} (id INTEGER PRIMARY KEY, position BIGINT NOT NULL,"
                    " processed BIGINT NOT NULL, updated_at TEXT NOT NULL)",
                )
                self.db.execute(
                    c, "INSERT INTO {t.progress} VALUES (1, 0, 0, {at}) ON CONFLICT DO NOTHING", {"at": now()}
                )

    def index(self) -> None:
        """Build the indexes only readers use (`reading_ddl`), on a generation created without them."""
        self.db.run(self.reading_ddl())

    def exists(self) -> bool:
        """Whether this generation's tables were all created (the progress row is written last)."""
        try:
            return self.db.fetchone("SELECT position FROM {t.progress}") is not None
        except Exception:
            return False

    def drop(self) -> None:
        if self.place.postgres:
            tables = [self.db.tables.name(t) for t in (*self.tables, PROGRESS, "tracking")]
            with self.db.transaction(commit=True) as c:
                for table in tables:
                    c.execute(f"DROP TABLE IF EXISTS {self.db.dialect.table(table)}")
            self.close()
        else:
            self.close()
            remove_sqlite_file(sqlite_file(self.place.env, self.place.prefix))

    def close(self) -> None:
        if self.owns_store:
            self.store.close()

    def position(self, application_name: str) -> int:
        return self.tracking.max_tracking_id(application_name) or 0

    def write(self, events: Sequence[Any], tracking: Tracking, expected: int, *, built: int = 0) -> None:
        """Apply a batch read at position `expected` and record the position reached, in one transaction; `built`:
        events applied before it by a build in shares (`build`), counted with it."""
        try:
            with self.db.transaction(commit=True) as c:
                # A read model is derived: after a crash it may lose its last batches, rows and position together
                # (they commit as one), and catches up again; so its commits need not wait for the disk.
                self.db.execute(
                    c,
                    "UPDATE {t.progress} SET position = {to}, processed = processed + {n}, updated_at = {at}"
                    " WHERE position = {expected} RETURNING position" + self.db.dialect.commit_without_waiting,
                    {"to": tracking.notification_id, "n": len(events) + built, "at": now(), "expected": expected},
                )
                if c.fetchone() is None:
                    raise Superseded
                self.apply_batch(events, c)
                # The library's own tracking statement, in this transaction (its public attribute, as built).
                c.execute(
                    self.tracking.insert_tracking_statement,  # type: ignore[attr-defined]
                    {"application_name": tracking.application_name, "notification_id": tracking.notification_id},
                )
                if c.fetchone() is None:
                    raise IntegrityError(f"position {tracking.notification_id} was recorded already")
        except Superseded:
            raise  # Refused before any event was applied: what it keeps in memory is as it was.
        except BaseException:
            self.forget()  # What it keeps in memory may be ahead of what was committed.
            raise
        self.at = tracking.notification_id

    def write_share(self, events: Sequence[Any]) -> None:
        """Apply a batch of one share of a generation being built in shares (projections/shares.py), in a
        transaction of its own: its rows only, the position is recorded once every share is in."""
        try:
            with self.db.transaction(commit=True) as c:
                self.db.execute(c, "SELECT 1" + self.db.dialect.commit_without_waiting)
                self.apply_batch(events, c)
        except BaseException:
            self.forget()
            raise

    def apply_batch(self, events: Sequence[Any], c: Any) -> None:
        """Each event changes the batch's buffers (`apply`); then each table is written once (`flush`)."""
        batch = self.begin(events, c)
        handlers = self.handlers
        for domain_event in events:
            (handlers.get(type(domain_event)) or self.handler(type(domain_event)))(domain_event, batch)
        self.flush(batch, c)

    def handler(self, event_class: type[Any]) -> Callable[[Any, Any], None]:
        """What `apply` does with events of this class: the function it registers for the class when it is a
        `singledispatchmethod`, bound to this view once and kept in `handlers` (its wrapper dispatches and binds
        anew at every call: some 7% of a rollups rebuild under py-spy); else `apply` itself."""
        handler = self.handlers.get(event_class)
        if handler is None:
            method = inspect.getattr_static(self, "apply")
            handler = self.handlers[event_class] = (
                method.dispatcher.dispatch(event_class).__get__(self, type(self))
                if isinstance(method, singledispatchmethod)
                else self.apply
            )
        return handler

    def begin(self, events: Sequence[Any], c: Any) -> Any:
        raise NotImplementedError

    def apply(self, domain_event: Any, batch: Any) -> None:
        raise NotImplementedError

    def flush(self, batch: Any, c: Any) -> None:
        raise NotImplementedError

    def forget(self) -> None:
        """Drop whatever this view keeps in memory between batches (a batch failed, or it is far behind)."""
        self.at = None

    def advance(self, events: Sequence[Any]) -> None:
        """Bring what this view keeps in memory forward by events another consumer applied (if it `advances`;
        others keep nothing that such events change, or check what they hold against each batch)."""

    def processed(self) -> int:
        row = self.db.fetchone("SELECT processed FROM {t.progress}")
        return int(row["processed"]) if row else 0

    def rows(self, table: str) -> list[dict[str, Any]]:
        order = self.tables[table]  # Only tables of the allow-list, ordered by their declared columns.
        return self.db.fetchall(f"SELECT * FROM {{t.{table}}} ORDER BY {order}")
