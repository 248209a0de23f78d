"""The outbox: every email is recorded here before it is sent, then marked sent, so each goes at most once per
(kind, meeting or week, user) across restarts, crashes and several workers, and none is lost while the mail
server is down.

A sender claims one waiting row at a time with a lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so concurrent
senders take different rows; SQLite's write lock serialises the claim), sends it outside any transaction, then
marks it sent or failed. A failed row waits with exponential backoff; a sender that died mid-send leaves a lease
that expires, and the message is sent again with the same Message-ID, which mail systems use to drop duplicates.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import NAMESPACE_URL, uuid5

from eventsourcing.persistence import InfrastructureFactory

from adapters.sql import Database, database, one_at_a_time

DDL = (
    "CREATE TABLE IF NOT EXISTS {t.outbox} (id TEXT PRIMARY KEY, kind TEXT NOT NULL, ref TEXT NOT NULL,"
    " user_id TEXT NOT NULL, recipient TEXT NOT NULL, message TEXT NOT NULL, created_at TEXT NOT NULL,"
    " attempts INTEGER NOT NULL, next_attempt_at TEXT NOT NULL, claimant TEXT, claimed_until TEXT,"
    " last_error TEXT, sent_at TEXT, UNIQUE (kind, ref, user_id))",
    "CREATE INDEX IF NOT EXISTS {i.outbox_waiting} ON {t.outbox} (sent_at, next_attempt_at)",
)
FIRST_RETRY = timedelta(seconds=30)
LONGEST_WAIT = timedelta(hours=1)
LEASE = timedelta(minutes=10)  # Far longer than a send can take (smtplib's timeouts bound it).


def outbox_id(kind: str, ref: str, user_id: str) -> str:
    """The row's id, and so its Message-ID: the same whenever the same message is composed."""
    return str(uuid5(NAMESPACE_URL, f"accord:outbox:{kind}:{ref}:{user_id}"))


def backoff(attempts: int) -> timedelta:
    """How long a message waits after its `attempts`-th failure: 30 s, 1 min, 2 min, ... at most an hour."""
    return min(FIRST_RETRY * 2 ** (attempts - 1), LONGEST_WAIT)


@dataclass(frozen=True)
class Entry:
    """A message to record: what it is for, whom, and its rendered MIME text."""

    kind: str  # "reminder" or "digest"
    ref: str  # The meeting's id, or the ISO week of a digest.
    user_id: str
    recipient: str
    message: str

    @property
    def id(self) -> str:
        return outbox_id(self.kind, self.ref, self.user_id)


class Outbox:
    def __init__(self, factory: InfrastructureFactory[Any], *, clock: Callable[[], datetime]) -> None:
        self.db: Database = database(factory, "accord", ["outbox", "outbox_waiting"])
        self.clock = clock
        with one_at_a_time(factory):
            self.db.run(DDL)

    def now(self) -> datetime:
        return self.clock().astimezone(UTC)

    def record(self, entries: Sequence[Entry]) -> int:
        """Record the messages not recorded before (by kind, ref and user); return how many were new."""
        at = self.now().isoformat()
        added = 0
        with self.db.transaction(commit=True) as c:
            for entry in entries:
                self.db.execute(
                    c,
                    "INSERT INTO {t.outbox} (id, kind, ref, user_id, recipient, message, created_at, attempts,"
                    " next_attempt_at) VALUES ({id}, {kind}, {ref}, {user_id}, {recipient}, {message}, {at}, 0, {at})"
                    " ON CONFLICT DO NOTHING RETURNING id",
                    {**entry.__dict__, "id": entry.id, "at": at},
                )
                added += len(c.fetchall())
        return added

    def recorded(self, ids: Sequence[str]) -> set[str]:
        """Which of these message ids are in the outbox already (sent or not)."""
        if not ids:
            return set()
        rows = self.db.fetchall("SELECT id FROM {t.outbox} WHERE id {in_ids}", {"ids": self.db.dialect.as_list(ids)})
        return {row["id"] for row in rows}

    def claim(self) -> dict[str, Any] | None:
        """Take the oldest message that is due and not held by another sender, for LEASE; None if there is none."""
        now = self.now()
        lock = " FOR UPDATE SKIP LOCKED" if self.db.dialect.postgres else ""
        params = {"me": uuid.uuid4().hex, "now": now.isoformat(), "until": (now + LEASE).isoformat()}
        with self.db.transaction(commit=True) as c:
            self.db.execute(
                c,
                "UPDATE {t.outbox} SET claimant = {me}, claimed_until = {until} WHERE id = (SELECT id FROM"
                " {t.outbox} WHERE sent_at IS NULL AND next_attempt_at <= {now}"
                " AND (claimed_until IS NULL OR claimed_until < {now})"
                f" ORDER BY created_at, id LIMIT 1{lock}) RETURNING *",
                params,
            )
            row = c.fetchone()
        return dict(row) if row else None

    def sent(self, row: dict[str, Any]) -> None:
        self.db.run(
            [
                "UPDATE {t.outbox} SET sent_at = {now}, claimant = NULL, claimed_until = NULL, last_error = NULL"
                " WHERE id = {id} AND claimant = {claimant}"
            ],
            {"now": self.now().isoformat(), "id": row["id"], "claimant": row["claimant"]},
        )

    def failed(self, row: dict[str, Any], error: str) -> datetime:
        """Put the message back to wait, with backoff; return when it is next due."""
        attempts = row["attempts"] + 1
        due = self.now() + backoff(attempts)
        self.db.run(
            [
                "UPDATE {t.outbox} SET attempts = {attempts}, next_attempt_at = {due}, last_error = {error},"
                " claimant = NULL, claimed_until = NULL WHERE id = {id} AND claimant = {claimant}"
            ],
            {
                "attempts": attempts,
                "due": due.isoformat(),
                "error": error,
                "id": row["id"],
                "claimant": row["claimant"],
            },
        )
        return due

    def counts(self) -> dict[str, int]:
        """Messages sent, waiting (not yet sent), and failed (waiting after at least one failed attempt)."""
        row = self.db.fetchone(
            "SELECT COUNT(sent_at) AS sent, COUNT(*) - COUNT(sent_at) AS waiting,"
            " SUM(CASE WHEN sent_at IS NULL AND attempts > 0 THEN 1 ELSE 0 END) AS failed FROM {t.outbox}"
        )
        assert row is not None
        return {name: int(row[name] or 0) for name in ("sent", "waiting", "failed")}

    def waiting(self) -> list[dict[str, Any]]:
        """The messages not yet sent, oldest first, without their text: kind, ref, attempts, next attempt, error."""
        return self.db.fetchall(
            "SELECT id, kind, ref, attempts, next_attempt_at, last_error, created_at FROM {t.outbox}"
            " WHERE sent_at IS NULL ORDER BY created_at, id"
        )

    def messages(self) -> list[dict[str, Any]]:
        """Every recorded message with its text, oldest first (for operators and tests)."""
        return self.db.fetchall("SELECT * FROM {t.outbox} ORDER BY created_at, id")
