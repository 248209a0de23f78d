"""Tamper evidence: every stored event is chained by hash to the one before, in its stream and in the store.

The recorders below write one row into `<events table>_chain` per stored event, in the same transaction as
the event, so neither is ever committed without the other. Each row holds two SHA-256 digests, as hex:

    stream_hash = H(previous stream_hash of the same originator, or 64 zeros,
                    originator_id, originator_version, topic, hex(sha256(state)))
    store_hash  = H(previous store_hash in notification order, or 64 zeros, stream_hash)

where H(p1, ..., pn) is the SHA-256 of the concatenation of each part's UTF-8 bytes, each preceded by its length
as 4 big-endian bytes (so no two different lists of parts hash the same bytes), and originator_id is the
UUID's canonical text (`str(uuid)`, with dashes). `verify_chain` recomputes both digests from the stored bytes
alone and reports the first place where they differ from what was recorded; the head (the last store_hash and its
position) commits to the whole store up to that position, so a head printed today can be checked against the
store later (`accord audit verify --expect POSITION:DIGEST`), even by someone who trusts neither table.

The recorders are chosen by the library's APPLICATION_RECORDER_TOPIC setting (see Settings.eventsourcing_env).
Nothing here changes or removes a stored event; the chain table, too, is only ever appended to.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import (
    ApplicationRecorder,
    InterfaceError,
    Notification,
    OperationalError,
    ProgrammingError,
    StoredEvent,
)
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor, SQLiteDatastore
from eventsourcing.utils import retry
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

ALGORITHM = "sha256"
ZERO = "0" * 64
BATCH = 500


def _h(*parts: str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode()
        digest.update(len(data).to_bytes(4, "big"))
        digest.update(data)
    return digest.hexdigest()


def stream_hash(previous: str, originator_id: UUID | str, originator_version: int, topic: str, state: bytes) -> str:
    """The digest that chains one stored event to the one before it in the same aggregate's stream."""
    return _h(previous, str(originator_id), str(originator_version), topic, hashlib.sha256(state).hexdigest())


def store_hash(previous: str, stream: str) -> str:
    """The digest that chains one stored event to the one before it in the whole store (notification order)."""
    return _h(previous, stream)


@dataclass(frozen=True)
class ChainEntry:
    """One row of the chain table: what was recorded about the stored event at `notification_id`."""

    notification_id: int
    originator_id: str
    originator_version: int
    stream_hash: str
    store_hash: str


@dataclass(frozen=True)
class Head:
    """The last store_hash and its position: a digest of the whole store up to that position."""

    position: int
    digest: str
    algorithm: str = ALGORITHM

    def __str__(self) -> str:
        return f"head {self.digest} at position {self.position}"


@dataclass(frozen=True)
class Break:
    """The first place where the stored events no longer match their chain."""

    position: int
    kind: str  # "altered", "removed", "inserted" or "reordered"
    detail: str

    def __str__(self) -> str:
        return f"chain broken at position {self.position} (event {self.kind}): {self.detail}"


@dataclass(frozen=True)
class Audit:
    """What a walk of the whole store found: how many events it checked, the head, and the first break."""

    events: int
    head: Head
    first_break: Break | None


class ChainUnavailableError(RuntimeError):
    """The application's recorder does not keep a hash chain."""


class ChainedRecorder(ABC):
    """What both chained recorders add: linking new events inside the insert transaction, and reading the chain."""

    events_table_name: str
    select_last_store_statement: Any
    select_last_stream_statement: Any

    @property
    def chain_table_name(self) -> str:
        return f"{self.events_table_name}_chain"

    @abstractmethod
    def select_chain(self, gt: int, stop: int, limit: int) -> list[ChainEntry]:
        """Chain entries with gt < notification_id <= stop, in notification order."""

    @abstractmethod
    def last_chain_entry(self) -> ChainEntry | None:
        """The chain entry with the highest notification id."""

    @staticmethod
    def link(
        stored_events: Sequence[StoredEvent],
        notification_ids: Sequence[int] | None,
        last_store_hash: str,
        last_stream_hash: Callable[[str, int], str],
    ) -> list[ChainEntry]:
        """The chain entries for events just inserted with these ids, following the last recorded entries."""
        if notification_ids is None or len(notification_ids) != len(stored_events):
            raise ProgrammingError("cannot chain stored events without one notification id for each")
        entries = []
        streams: dict[str, str] = {}
        store = last_store_hash
        for notification_id, event in sorted(zip(notification_ids, stored_events, strict=True), key=lambda p: p[0]):
            originator_id = str(event.originator_id)
            previous = streams.get(originator_id)
            if previous is None:  # A stream's first event has nothing before it: no query (imports start many).
                previous = (
                    ZERO if event.originator_version == 1 else last_stream_hash(originator_id, event.originator_version)
                )
            stream = stream_hash(previous, originator_id, event.originator_version, event.topic, event.state)
            store = store_hash(store, stream)
            streams[originator_id] = stream
            entries.append(ChainEntry(notification_id, originator_id, event.originator_version, stream, store))
        return entries

    def link_after_last(
        self, cursor: Any, stored_events: Sequence[StoredEvent], notification_ids: Sequence[int] | None
    ) -> list[ChainEntry]:
        """`link`, after the last entries recorded, read with the insert transaction's own cursor."""

        def last_stream_hash(originator_id: str, version: int) -> str:
            cursor.execute(self.select_last_stream_statement, (originator_id, version))
            row = cursor.fetchone()
            return str(row["stream_hash"]) if row else ZERO

        cursor.execute(self.select_last_store_statement)
        last = cursor.fetchone()
        return self.link(stored_events, notification_ids, last["store_hash"] if last else ZERO, last_stream_hash)


class ChainedSQLiteApplicationRecorder(SQLiteApplicationRecorder, ChainedRecorder):
    """SQLite: chain entries are inserted by `_insert_events`, inside the library's write transaction."""

    def __init__(self, datastore: SQLiteDatastore, events_table_name: str = "stored_events"):
        super().__init__(datastore, events_table_name)
        chain = self.chain_table_name
        columns = "notification_id, originator_id, originator_version, stream_hash, store_hash"
        self.insert_chain_statement = f"INSERT INTO {chain} ({columns}) VALUES (?,?,?,?,?)"
        self.select_last_store_statement = f"SELECT {columns} FROM {chain} ORDER BY notification_id DESC LIMIT 1"
        self.select_last_stream_statement = (
            f"SELECT stream_hash FROM {chain} WHERE originator_id=? AND originator_version<? "
            "ORDER BY originator_version DESC LIMIT 1"
        )
        self.select_chain_statement = (
            f"SELECT {columns} FROM {chain} WHERE notification_id>? AND notification_id<=? "
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

    def _insert_events(self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int]:
        # The events are inserted first, so this transaction already holds SQLite's write lock when it reads the
        # last chain entry: no other writer can append in between.
        notification_ids = super()._insert_events(c, stored_events, **kwargs)
        entries = self.link_after_last(c, stored_events, notification_ids)
        c.executemany(self.insert_chain_statement, [_row(e) for e in entries])
        return [e.notification_id for e in entries]

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
    """PostgreSQL: chain entries are inserted after the events, in the same transaction and under the table lock.

    The library's own insert_events catches every exception inside its transaction block and re-raises it only
    after the block has exited, which commits the transaction unless the server had already aborted it; so an
    error while chaining could commit events without their chain entries. This recorder therefore runs the same
    steps (lock the events table, notify, insert, fetch the ids) in a plain transaction that any error rolls back.
    """

    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"):
        super().__init__(datastore, events_table_name=events_table_name)
        self.check_identifier_length(self.chain_table_name)
        schema, chain = Identifier(self.datastore.schema), Identifier(self.chain_table_name)
        columns = SQL("notification_id, originator_id, originator_version, stream_hash, store_hash")
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {schema}.{chain} ("
                "notification_id bigint PRIMARY KEY, "
                "originator_id text NOT NULL, "
                "originator_version bigint NOT NULL, "
                "stream_hash text NOT NULL, "
                "store_hash text NOT NULL, "
                "UNIQUE (originator_id, originator_version))"
            ).format(schema=schema, chain=chain)
        )
        self.insert_chain_statement = SQL(
            "INSERT INTO {schema}.{chain} ({columns}) "
            "SELECT * FROM unnest(%s::bigint[], %s::text[], %s::bigint[], %s::text[], %s::text[]) "
            "RETURNING notification_id"
        ).format(schema=schema, chain=chain, columns=columns)
        self.select_last_store_statement = SQL(
            "SELECT {columns} FROM {schema}.{chain} ORDER BY notification_id DESC LIMIT 1"
        ).format(schema=schema, chain=chain, columns=columns)
        self.select_last_stream_statement = SQL(
            "SELECT stream_hash FROM {schema}.{chain} WHERE originator_id = %s AND originator_version < %s "
            "ORDER BY originator_version DESC LIMIT 1"
        ).format(schema=schema, chain=chain)
        self.select_chain_statement = SQL(
            "SELECT {columns} FROM {schema}.{chain} WHERE notification_id > %s AND notification_id <= %s "
            "ORDER BY notification_id LIMIT %s"
        ).format(schema=schema, chain=chain, columns=columns)

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        if self.datastore.enable_db_functions:
            raise ProgrammingError("the hash chain cannot be kept with POSTGRES_ENABLE_DB_FUNCTIONS set")
        if not stored_events:
            return None
        with self.datastore.get_connection() as conn, conn.transaction(), conn.cursor() as curs:
            # Locks the events table IN EXCLUSIVE MODE until commit, so the last chain entry read below stays last.
            self._insert_stored_events(curs, stored_events, **kwargs)
            notification_ids = self._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
            self._append_chain(curs, stored_events, notification_ids)
        return notification_ids

    def _append_chain(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], notification_ids: Sequence[int] | None
    ) -> None:
        entries = self.link_after_last(curs, stored_events, notification_ids)
        columns = list(zip(*(_row(e) for e in entries), strict=True))
        curs.execute(self.insert_chain_statement, [list(column) for column in columns])
        if len(curs.fetchall()) != len(entries):
            raise ProgrammingError("not every chain entry was inserted")

    def select_chain(self, gt: int, stop: int, limit: int) -> list[ChainEntry]:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self.select_chain_statement, (gt, stop, limit))
            return [_entry(row) for row in curs.fetchall()]

    def last_chain_entry(self) -> ChainEntry | None:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self.select_last_store_statement)
            row = curs.fetchone()
            return _entry(row) if row else None


def _row(entry: ChainEntry) -> tuple[int, str, int, str, str]:
    return (entry.notification_id, entry.originator_id, entry.originator_version, entry.stream_hash, entry.store_hash)


def _entry(row: Any) -> ChainEntry:
    return ChainEntry(
        notification_id=int(row["notification_id"]),
        originator_id=str(row["originator_id"]),
        originator_version=int(row["originator_version"]),
        stream_hash=str(row["stream_hash"]),
        store_hash=str(row["store_hash"]),
    )


# Reading and checking the chain.


def chained(recorder: ApplicationRecorder) -> ChainedRecorder:
    if not isinstance(recorder, ChainedRecorder):
        raise ChainUnavailableError(
            f"the event store's recorder ({type(recorder).__name__}) keeps no hash chain; "
            "set APPLICATION_RECORDER_TOPIC as Settings.eventsourcing_env does"
        )
    return recorder


def head(recorder: ApplicationRecorder) -> Head:
    """The current head: the last store_hash and its position, or 64 zeros at position 0 for an empty store."""
    last = chained(recorder).last_chain_entry()
    return Head(last.notification_id, last.store_hash) if last else Head(0, ZERO)


def verify_chain(recorder: ApplicationRecorder, expect: Head | None = None) -> Break | None:
    """The first break in the chain, or None when every stored event matches it (and the `expect`ed head)."""
    return audit(recorder, expect).first_break


def audit(recorder: ApplicationRecorder, expect: Head | None = None, batch: int = BATCH) -> Audit:
    """Walk every stored event and chain entry in notification order, recomputing both digests from stored bytes.

    `expect`, a head reported earlier, must still be the store_hash recomputed at its position.
    """
    chain = chained(recorder)
    # Read the highest event id before the chain's head: an event and its entry commit together, so anything
    # up to the larger of the two is complete, and an event appended without an entry is still seen.
    last = chain.last_chain_entry()
    stop = max(recorder.max_notification_id() or 0, last.notification_id if last else 0)
    events = _paged(lambda gt: recorder.select_notifications(gt, batch, stop, inclusive_of_start=False))
    entries = _paged(lambda gt: chain.select_chain(gt, stop, batch))
    if expect is not None and expect.position == 0:
        if expect.digest != ZERO:
            return Audit(0, Head(0, ZERO), Break(0, "altered", "an empty store's head is 64 zeros"))
        expect = None
    walk = _Walk(expect)
    event, entry = next(events, None), next(entries, None)
    while event is not None or entry is not None:
        found: Break | None
        if event is not None and (entry is None or event.id < entry.notification_id):
            found = Break(event.id, "inserted", f"the stored {_describe(event)} has no chain entry")
            event = next(events, None)
        elif entry is not None and (event is None or entry.notification_id < event.id):
            recorded = _name(entry.originator_id, entry.originator_version)
            found = Break(
                entry.notification_id, "removed", f"the chain records {recorded} here, but no stored event is there"
            )
            entry = next(entries, None)
        else:
            assert event is not None and entry is not None
            found = walk.step(event, entry) or walk.check_expected()
            event, entry = next(events, None), next(entries, None)
        if found is not None:
            return Audit(walk.count, walk.head, found)
    if expect is not None and expect.position > walk.head.position:
        detail = f"the store ends at position {walk.head.position}, before the expected head's {expect.position}"
        return Audit(walk.count, walk.head, Break(expect.position, "removed", detail))
    return Audit(walk.count, walk.head, None)


class _Walk:
    """The state of a walk: the last recomputed store_hash, and the last stream_hash and version per originator."""

    def __init__(self, expect: Head | None) -> None:
        self.expect = expect
        self.head = Head(0, ZERO)
        self.streams: dict[str, tuple[int, str]] = {}
        self.count = 0

    def step(self, event: Notification, entry: ChainEntry) -> Break | None:
        originator_id = str(event.originator_id)
        position = event.id
        if (entry.originator_id, entry.originator_version) != (originator_id, event.originator_version):
            return Break(
                position,
                "reordered",
                f"position {position} holds {_describe(event)}, but the chain records "
                f"{_name(entry.originator_id, entry.originator_version)} there (moved or replaced)",
            )
        last_version, last_stream = self.streams.get(originator_id, (0, ZERO))
        if event.originator_version != last_version + 1:
            return Break(
                position,
                "removed",
                f"{_describe(event)} follows version {last_version} of its stream "
                "(an event before it was removed or reordered)",
            )
        stream = stream_hash(last_stream, originator_id, event.originator_version, event.topic, event.state)
        if stream != entry.stream_hash:
            return Break(position, "altered", f"the stored {_describe(event)} does not match its recorded hash")
        store = store_hash(self.head.digest, stream)
        if store != entry.store_hash:
            return Break(
                position,
                "reordered",
                "the store hash does not follow from the entries before it "
                "(an event before it was removed or reordered, or the chain was rewritten)",
            )
        self.streams[originator_id] = (event.originator_version, stream)
        self.head = Head(position, store)
        self.count += 1
        return None

    def check_expected(self) -> Break | None:
        expect = self.expect
        if expect is None or self.head.position < expect.position:
            return None
        self.expect = None
        if self.head.position > expect.position:
            return Break(
                expect.position, "removed", f"no stored event at the expected head's position {expect.position}"
            )
        if self.head.digest != expect.digest:
            return Break(
                expect.position,
                "altered",
                f"the store hash here is {self.head.digest}, not the expected head {expect.digest} "
                "(the store up to here was changed since that head was reported)",
            )
        return None


def _paged(fetch: Callable[[int], Sequence[Any]]) -> Iterator[Any]:
    """Every item from pages fetched after the last item's id (notification id for either kind of item)."""
    gt = 0
    while True:
        page = fetch(gt)
        if not page:
            return
        yield from page
        last = page[-1]
        gt = last.id if isinstance(last, Notification) else last.notification_id


def _name(originator_id: object, version: int) -> str:
    return f"version {version} of {originator_id}"


def _describe(event: Notification) -> str:
    return f"event {_name(event.originator_id, event.originator_version)} ({event.topic.rpartition('.')[2]})"
