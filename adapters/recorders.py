"""The event store's recorders: the library's own, extended through public methods only to write each stored
event's hash-chain entry (adapters/chain_format.py) in the same transaction as the event.

The recorders are chosen by the library's APPLICATION_RECORDER_TOPIC setting (see Settings.event_store_env). Each
overrides the public `insert_events` and uses only public attributes of the library's recorder (its datastore,
events table, insert statement on SQLite, table lock statements and stored-event type on PostgreSQL);
tests/integration/test_recorders.py fails if what they rely on changes (the ids returned are the notification
ids, a refused insert writes nothing, concurrent writers are serialised). Nothing here changes or removes a stored
event; the chain table, too, is only ever appended to.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from contextlib import suppress
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.persistence import InterfaceError, Notification, OperationalError, ProgrammingError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteDatastore
from eventsourcing.utils import retry
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Composable, Identifier

from adapters.chain_format import ZERO, ChainEntry, chain_entries, stream_hashes

COLUMNS = "notification_id, originator_id, originator_version, stream_hash, store_hash"
BEGIN, COMMIT = SQL("BEGIN"), SQL("COMMIT")
# PostgreSQL: the function and the running aggregate that compute store_hash under the table lock (chain_format).
STORE_HASH, STORE_CHAIN = "accord_store_hash", "accord_store_chain"
STREAMS_KEPT = 10_000  # Originators whose last stream_hash a PostgreSQL recorder remembers.


class ChainedRecorder(ABC):
    """What both chained recorders add: linking new events inside the insert transaction, and reading the chain."""

    events_table_name: str

    @property
    def chain_table_name(self) -> str:
        return f"{self.events_table_name}_chain"

    @staticmethod
    def link(stored_events: Sequence[StoredEvent], last_stream_hashes: Mapping[str, str]) -> list[str]:
        """The stream_hash of each event about to be inserted (see chain_format.stream_hashes)."""
        return stream_hashes(stored_events, last_stream_hashes)

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
            last_streams = {}
            first: dict[str, int] = {}
            for event in sorted(stored_events, key=lambda e: e.originator_version, reverse=True):
                first[str(event.originator_id)] = event.originator_version
            for originator_id in (o for o, version in first.items() if version > 1):  # A new stream has no past.
                c.execute(self.select_last_stream_statement, (originator_id,))
                row = c.fetchone()
                if row:
                    last_streams[originator_id] = str(row["stream_hash"])
            streams = self.link(stored_events, last_streams)
            c.execute(self.select_last_store_statement)
            last = c.fetchone()
            entries = chain_entries(stored_events, notification_ids, streams, last["store_hash"] if last else ZERO)
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


def _part(text: Composable) -> Composable:
    """One part of chain_format.digest in SQL: its UTF-8 bytes, preceded by their length as 4 big-endian bytes."""
    return SQL("int4send(octet_length(convert_to({0}, 'UTF8'))) || convert_to({0}, 'UTF8')").format(text)


class ChainedPostgresApplicationRecorder(PostgresApplicationRecorder, ChainedRecorder):
    """PostgreSQL: the library's table lock and notification, the events and their chain entries, and the commit,
    in one round trip, so the table lock is held only while the server works, never while this process waits.

    Each event's stream_hash is computed here beforehand (it depends only on its own stream, whose last entry is
    remembered from this process's last write to it, else read before the transaction); each store_hash, which
    depends on the entry before it in the whole store, is computed by the server under the lock, by the same
    formula (chain_format.store_hash; `accord audit verify` recomputes every one in Python).
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
        # Each store_hash chains to the one before it: a running aggregate over the batch in notification order,
        # its first input the store's last store_hash (an aggregate whose state is its input's type takes its first
        # input as its state). A recursive query that joined each row to the next was quadratic in the batch: one
        # save of 8,202 events (a 2,000-action import) held the table lock for 45 s.
        store_hash = SQL("{schema}.{function}").format(function=Identifier(STORE_HASH), **names)
        store_chain = SQL("{schema}.{aggregate}").format(aggregate=Identifier(STORE_CHAIN), **names)
        self.sql_create_statements += [
            SQL(
                "CREATE OR REPLACE FUNCTION {store_hash}(previous text, stream text) RETURNS text"
                " LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE"
                " AS $$ SELECT encode(sha256({previous} || {stream}), 'hex') $$"
            ).format(store_hash=store_hash, previous=_part(SQL("$1")), stream=_part(SQL("$2"))),
            SQL("CREATE OR REPLACE AGGREGATE {store_chain}(text) (SFUNC = {store_hash}, STYPE = text)").format(
                store_chain=store_chain, store_hash=store_hash
            ),
        ]
        self.notify_statement = SQL("NOTIFY {0}").format(Identifier(self.channel_name))
        self.insert_chained_events_statement = SQL(
            "WITH new AS ("
            " INSERT INTO {schema}.{events} (originator_id, originator_version, topic, state)"
            " SELECT originator_id, originator_version, topic, state FROM unnest(%(events)s::{schema}.{event_type}[])"
            " RETURNING notification_id, originator_id::text AS originator_id, originator_version"
            "), chained AS ("
            " SELECT notification_id, originator_id, originator_version, stream_hash,"
            "  {store_chain}(part) OVER (ORDER BY position ROWS UNBOUNDED PRECEDING) AS store_hash"
            " FROM (SELECT 0::bigint AS position, NULL::bigint AS notification_id, NULL::text AS originator_id,"
            "  NULL::bigint AS originator_version, NULL::text AS stream_hash, coalesce("
            "  (SELECT store_hash FROM {schema}.{chain} ORDER BY notification_id DESC LIMIT 1), %(zero)s) AS part"
            "  UNION ALL"
            "  SELECT new.notification_id, new.notification_id, new.originator_id, new.originator_version,"
            "  given.stream_hash, given.stream_hash FROM new"
            "  JOIN unnest(%(originator_ids)s::text[], %(versions)s::bigint[], %(streams)s::text[])"
            "  AS given (originator_id, originator_version, stream_hash) USING (originator_id, originator_version)"
            " ) AS parts"
            ") INSERT INTO {schema}.{chain} ({columns})"
            " SELECT notification_id, originator_id, originator_version, stream_hash, store_hash"
            " FROM chained WHERE notification_id IS NOT NULL"
            " RETURNING notification_id, originator_id, originator_version"
        ).format(
            events=Identifier(self.events_table_name),
            event_type=Identifier(self.stored_event_type_name),
            store_chain=store_chain,
            columns=columns,
            **names,
        )
        self.select_last_streams_statement = SQL(
            "SELECT DISTINCT ON (originator_id) originator_id, originator_version, stream_hash FROM {schema}.{chain} "
            "WHERE originator_id = ANY(%s) ORDER BY originator_id, originator_version DESC"
        ).format(**names)
        self.select_last_store_statement = SQL(
            "SELECT {columns} FROM {schema}.{chain} ORDER BY notification_id DESC LIMIT 1"
        ).format(columns=columns, **names)
        self.select_chain_statement = SQL(
            "SELECT {columns} FROM {schema}.{chain} WHERE notification_id > %s AND notification_id <= %s "
            "ORDER BY notification_id LIMIT %s"
        ).format(columns=columns, **names)
        # A build in shares (projections/shares.py) splits the originators by bucket, the last byte of their id:
        # how many events each bucket holds up to a position, and the events of some buckets between two positions.
        # A window of positions, not a LIMIT: where the window is the whole table, a LIMIT lets the planner choose
        # to sort the whole table (seen: 200 ms a batch, against 3 ms by the index).
        bucket = SQL("get_byte(uuid_send(originator_id), 15)")
        self.select_bucket_sizes_statement = SQL(
            "SELECT {bucket} AS bucket, count(*) AS events FROM {schema}.{events} WHERE notification_id <= %s"
            " GROUP BY 1"
        ).format(bucket=bucket, events=Identifier(self.events_table_name), **names)
        self.select_share_statement = SQL(
            "SELECT notification_id, originator_id, originator_version, topic, state FROM {schema}.{events}"
            " WHERE notification_id >= %s AND notification_id <= %s AND get_byte(%s::bytea, {bucket}) = 1"
            " ORDER BY notification_id"
        ).format(bucket=bucket, events=Identifier(self.events_table_name), **names)
        self.last_streams: dict[str, tuple[int, str]] = {}  # originator -> (version, stream_hash) this process wrote
        self.last_streams_lock = threading.Lock()

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)  # As the library's own insert_events.
    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        if self.datastore.enable_db_functions:
            raise ProgrammingError("the hash chain cannot be kept with POSTGRES_ENABLE_DB_FUNCTIONS set")
        if not stored_events:
            return None
        streams = self.link(stored_events, self.last_stream_hashes(stored_events))
        params = {
            "events": [
                self.construct_pg_stored_event(e.originator_id, e.originator_version, e.topic, e.state)
                for e in stored_events
            ],
            "originator_ids": [str(e.originator_id) for e in stored_events],
            "versions": [e.originator_version for e in stored_events],
            "streams": streams,
            "zero": ZERO,
        }
        with self.datastore.get_connection() as conn:
            # BEGIN and COMMIT are sent as statements, so the whole transaction is one pipeline sync: psycopg's
            # transaction() in a pipeline syncs after BEGIN and again before COMMIT.
            statements, chained = conn.cursor(), conn.cursor()
            try:
                with conn.pipeline() as pipeline:
                    for statement in [BEGIN, *self.lock_table_statements, self.notify_statement]:
                        statements.execute(statement, prepare=statement is not BEGIN)
                    chained.execute(self.insert_chained_events_statement, params, prepare=True)
                    statements.execute(COMMIT)
                    pipeline.sync()  # One round trip; the first error (a version already stored) is raised here.
                inserted = {(row["originator_id"], row["originator_version"]): row for row in chained.fetchall()}
            except BaseException:
                with suppress(psycopg.Error):  # A broken connection must not hide the error that broke it.
                    conn.rollback()  # The failed transaction block is still open on the server: close it.
                raise
        if len(inserted) != len(stored_events):
            raise ProgrammingError("not every stored event was chained")  # pragma: no cover (the join is exact)
        self.remember(stored_events, streams)
        return [inserted[str(e.originator_id), e.originator_version]["notification_id"] for e in stored_events]

    def last_stream_hashes(self, stored_events: Sequence[StoredEvent]) -> dict[str, str]:
        """The stream_hash before each originator's first event here: remembered, else read (outside the lock: a
        stream moved on meanwhile makes the insert fail on its version, before anything is written)."""
        first = {}
        for event in sorted(stored_events, key=lambda e: e.originator_version, reverse=True):
            first[str(event.originator_id)] = event.originator_version
        known, unknown = {}, []
        with self.last_streams_lock:
            for originator_id, version in first.items():
                remembered = self.last_streams.get(originator_id)
                if version == 1:
                    continue
                if remembered is not None and remembered[0] == version - 1:
                    known[originator_id] = remembered[1]
                else:
                    unknown.append(originator_id)
        if unknown:
            with self.datastore.get_connection() as conn, conn.cursor() as curs:
                curs.execute(self.select_last_streams_statement, (unknown,), prepare=True)
                known |= {row["originator_id"]: row["stream_hash"] for row in curs.fetchall()}
        return known

    def remember(self, stored_events: Sequence[StoredEvent], streams: Sequence[str]) -> None:
        with self.last_streams_lock:
            for event, stream in sorted(
                zip(stored_events, streams, strict=True), key=lambda p: p[0].originator_version
            ):
                originator_id = str(event.originator_id)
                self.last_streams.pop(originator_id, None)
                if len(self.last_streams) >= STREAMS_KEPT:
                    del self.last_streams[next(iter(self.last_streams))]  # The least recently written goes.
                self.last_streams[originator_id] = (event.originator_version, stream)

    def bucket_sizes(self, stop: int) -> dict[int, int]:
        """How many events up to position `stop` each bucket holds (`bucket_of`), for the buckets that hold any."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self.select_bucket_sizes_statement, (stop,))
            return {row["bucket"]: row["events"] for row in curs.fetchall()}

    def select_share(self, start: int, stop: int, buckets: Sequence[int]) -> list[Notification]:
        """The notifications from `start` to `stop` (as the library's `select_notifications`) of the originators
        in `buckets` alone (`bucket_of`): a build in shares reads and decodes each event once."""
        # Binary results: a payload comes as its bytes, not as hex text the server encodes and this process decodes.
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row, binary=True) as curs:
            wanted = set(buckets)  # As a byte a bucket (1: wanted), looked up at once where `= ANY` is a scan.
            mask = bytes(bucket in wanted for bucket in range(256))
            curs.execute(self.select_share_statement, (start, stop, mask), prepare=True)
            return [
                Notification(
                    id=id_, originator_id=originator, originator_version=version, topic=topic, state=bytes(state)
                )
                for id_, originator, version, topic, state in curs.fetchall()
            ]

    def select_chain(self, gt: int, stop: int, limit: int) -> list[ChainEntry]:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self.select_chain_statement, (gt, stop, limit))
            return [_entry(row) for row in curs.fetchall()]

    def last_chain_entry(self) -> ChainEntry | None:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self.select_last_store_statement)
            row = curs.fetchone()
            return _entry(row) if row else None


def bucket_of(originator_id: UUID) -> int:
    """An originator's bucket, as `bucket_sizes` and `select_share` take it: the last byte of its id."""
    return originator_id.bytes[15]


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
