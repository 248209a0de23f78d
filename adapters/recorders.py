"""The event store's recorders: the library's own, extended through public methods only to write each stored
event's hash-chain entry (adapters/chain_format.py) in the same transaction as the event.

The recorders are chosen by the library's APPLICATION_RECORDER_TOPIC setting (see Settings.event_store_env). Each
overrides the public `insert_events`, using only the library's public statements and datastore; tests/unit/
test_library_contract.py fails if what they rely on changes. Nothing here changes or removes a stored event; the
chain table, too, is only ever appended to.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import InterfaceError, OperationalError, ProgrammingError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteDatastore
from eventsourcing.utils import retry
from psycopg.sql import SQL, Identifier

from adapters.chain_format import ZERO, ChainEntry, link

COLUMNS = "notification_id, originator_id, originator_version, stream_hash, store_hash"


class ChainedRecorder(ABC):
    """What both chained recorders add: linking new events inside the insert transaction, and reading the chain."""

    events_table_name: str

    @property
    def chain_table_name(self) -> str:
        return f"{self.events_table_name}_chain"

    @staticmethod
    def link(
        stored_events: Sequence[StoredEvent],
        notification_ids: Sequence[int] | None,
        last_store_hash: str,
        last_stream_hashes: Mapping[str, str],
    ) -> list[ChainEntry]:
        """The chain entries for events just inserted with these ids (see chain_format.link)."""
        if notification_ids is None or len(notification_ids) != len(stored_events):
            raise ProgrammingError("cannot chain stored events without one notification id for each")
        return link(stored_events, notification_ids, last_store_hash, last_stream_hashes)

    @abstractmethod
    def select_chain(self, gt: int, stop: int, limit: int) -> list[ChainEntry]:
        """Chain entries with gt < notification_id <= stop, in notification order."""

    @abstractmethod
    def last_chain_entry(self) -> ChainEntry | None:
        """The chain entry with the highest notification id."""


class ChainedSQLiteApplicationRecorder(SQLiteApplicationRecorder, ChainedRecorder):
    """SQLite: the events, then their chain entries, in one write transaction (which holds SQLite's write lock,
    so no other writer can append between reading the last entry and writing the next)."""

    def __init__(self, datastore: SQLiteDatastore, events_table_name: str = "stored_events"):
        super().__init__(datastore, events_table_name)
        chain = self.chain_table_name
        self.insert_chain_statement = f"INSERT INTO {chain} ({COLUMNS}) VALUES (?,?,?,?,?)"
        self.select_last_store_statement = f"SELECT {COLUMNS} FROM {chain} ORDER BY notification_id DESC LIMIT 1"
        self.select_last_stream_statement = (
            f"SELECT stream_hash FROM {chain} WHERE originator_id=? ORDER BY originator_version DESC LIMIT 1"
        )
        self.select_chain_statement = (
            f"SELECT {COLUMNS} FROM {chain} WHERE notification_id>? AND notification_id<=? "
            "ORDER BY notification_id LIMIT ?"
        )

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            f"CREATE TABLE IF NOT EXISTS {self.chain_table_name} ("
            "notification_id INTEGER PRIMARY KEY, "
            "originator_id TEXT NOT NULL, "
            "originator_version INTEGER NOT NULL, "
            "stream_hash TEXT NOT NULL, "
            "store_hash TEXT NOT NULL, "
            "UNIQUE (originator_id, originator_version))",
        ]

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        with self.datastore.transaction(commit=True) as c:
            notification_ids = []
            for event in stored_events:
                c.execute(
                    self.insert_events_statement,
                    (_sqlite_id(event.originator_id), event.originator_version, event.topic, event.state),
                )
                notification_ids.append(c.lastrowid)
            c.execute(self.select_last_store_statement)
            last = c.fetchone()
            streams = {}
            for originator_id in {str(e.originator_id) for e in stored_events}:
                c.execute(self.select_last_stream_statement, (originator_id,))
                row = c.fetchone()
                if row:
                    streams[originator_id] = str(row["stream_hash"])
            entries = self.link(stored_events, notification_ids, last["store_hash"] if last else ZERO, streams)
            c.executemany(self.insert_chain_statement, [e.row() for e in entries])
        return notification_ids

    def select_chain(self, gt: int, stop: int, limit: int) -> list[ChainEntry]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(self.select_chain_statement, (gt, stop, limit))
            return [_entry(row) for row in c.fetchall()]

    def last_chain_entry(self) -> ChainEntry | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute(self.select_last_store_statement)
            row = c.fetchone()
            return _entry(row) if row else None


class ChainedPostgresApplicationRecorder(PostgresApplicationRecorder, ChainedRecorder):
    """PostgreSQL: the library's table lock, events and notification, then the chain entries, in one transaction
    that any error rolls back, in two round trips (as the library's own insert takes).

    The first round trip, pipelined, locks the events table (so the last chain entry stays last until commit),
    inserts the events and reads the last store hash and each originator's last stream hash; the second writes the
    chain entries and commits.
    """

    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"):
        super().__init__(datastore, events_table_name=events_table_name)
        self.check_identifier_length(self.chain_table_name)
        names = {"schema": Identifier(self.datastore.schema), "chain": Identifier(self.chain_table_name)}
        columns = SQL(COLUMNS)
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {schema}.{chain} ("
                "notification_id bigint PRIMARY KEY, "
                "originator_id text NOT NULL, "
                "originator_version bigint NOT NULL, "
                "stream_hash text NOT NULL, "
                "store_hash text NOT NULL, "
                "UNIQUE (originator_id, originator_version))"
            ).format(**names)
        )
        self.notify_statement = SQL("NOTIFY {0}").format(Identifier(self.channel_name))
        self.insert_chain_statement = SQL(
            "INSERT INTO {schema}.{chain} ({columns}) "
            "SELECT * FROM unnest(%s::bigint[], %s::text[], %s::bigint[], %s::text[], %s::text[])"
        ).format(columns=columns, **names)
        self.select_last_store_statement = SQL(
            "SELECT {columns} FROM {schema}.{chain} ORDER BY notification_id DESC LIMIT 1"
        ).format(columns=columns, **names)
        self.select_last_streams_statement = SQL(
            "SELECT DISTINCT ON (originator_id) originator_id, stream_hash FROM {schema}.{chain} "
            "WHERE originator_id = ANY(%s) ORDER BY originator_id, originator_version DESC"
        ).format(**names)
        self.select_chain_statement = SQL(
            "SELECT {columns} FROM {schema}.{chain} WHERE notification_id > %s AND notification_id <= %s "
            "ORDER BY notification_id LIMIT %s"
        ).format(columns=columns, **names)

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)  # As the library's own insert_events.
    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        if self.datastore.enable_db_functions:
            raise ProgrammingError("the hash chain cannot be kept with POSTGRES_ENABLE_DB_FUNCTIONS set")
        if not stored_events:
            return None
        rows = [
            self.construct_pg_stored_event(e.originator_id, e.originator_version, e.topic, e.state)
            for e in stored_events
        ]
        originator_ids = sorted({str(e.originator_id) for e in stored_events})
        with self.datastore.get_connection() as conn, conn.pipeline() as pipeline, conn.transaction():
            lock, inserted, last, streams, chain = (conn.cursor() for _ in range(5))
            for statement in [*self.lock_table_statements, self.notify_statement]:
                lock.execute(statement, prepare=True)
            inserted.execute(self.insert_events_statement, (rows,), prepare=True)
            last.execute(self.select_last_store_statement, prepare=True)
            streams.execute(self.select_last_streams_statement, (originator_ids,), prepare=True)
            pipeline.sync()  # One round trip so far; a duplicate version raises IntegrityError here.
            notification_ids = [row["notification_id"] for row in inserted.fetchall()]
            head = last.fetchone()
            entries = self.link(
                stored_events,
                notification_ids,
                head["store_hash"] if head else ZERO,
                {row["originator_id"]: row["stream_hash"] for row in streams.fetchall()},
            )
            columns = [list(column) for column in zip(*(e.row() for e in entries), strict=True)]
            chain.execute(self.insert_chain_statement, columns)
        return notification_ids

    def select_chain(self, gt: int, stop: int, limit: int) -> list[ChainEntry]:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self.select_chain_statement, (gt, stop, limit))
            return [_entry(row) for row in curs.fetchall()]

    def last_chain_entry(self) -> ChainEntry | None:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self.select_last_store_statement)
            row = curs.fetchone()
            return _entry(row) if row else None


def _sqlite_id(originator_id: UUID | str) -> str:
    """How the library's SQLite recorder stores an originator id: a UUID as its hex."""
    return originator_id.hex if isinstance(originator_id, UUID) else originator_id


def _entry(row: Any) -> ChainEntry:
    return ChainEntry(
        notification_id=int(row["notification_id"]),
        originator_id=str(row["originator_id"]),
        originator_version=int(row["originator_version"]),
        stream_hash=str(row["stream_hash"]),
        store_hash=str(row["store_hash"]),
    )
