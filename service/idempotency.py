"""Idempotency keys (the IETF Idempotency-Key draft, as Stripe practises it): a retried write gets the first
response and writes nothing, also after a crash between the write and its response, and across restarts.

A request with a key first claims (user, key) in a table of the event store's database, with a fingerprint of
the request; its response is stored beside the claim after the write. A write that gives what it creates the
claim's derived id (`Claim.new_id`) is safe to run again under a claim that never got its response: the
service finds the first attempt's save by that id and answers from it (see `Accord.post_update`).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.persistence import InfrastructureFactory

from adapters.sql import Database, database, dumps, loads, one_at_a_time
from domain.errors import RuleViolated

DDL = (
    "CREATE TABLE IF NOT EXISTS {t.idempotency_keys} (user_id TEXT NOT NULL, idempotency_key TEXT NOT NULL,"
    " fingerprint TEXT NOT NULL, claimant TEXT NOT NULL, created_at TEXT NOT NULL, response TEXT,"
    " PRIMARY KEY (user_id, idempotency_key))",
    "CREATE INDEX IF NOT EXISTS {i.idempotency_keys_created_at} ON {t.idempotency_keys} (created_at)",
)


@dataclass(frozen=True)
class Claim:
    """One caller's hold on one key: what request it was first used with, and the response once there is one."""

    user_id: str
    key: str
    fingerprint: str
    claimant: str
    created_at: str
    response: dict[str, Any] | None
    mine: bool  # This request made the claim; otherwise another request made it and is running, or died.

    @property
    def new_id(self) -> UUID:
        """The id of what a write under this claim creates: the same for every retry while the key lives."""
        return uuid5(NAMESPACE_URL, f"accord:idempotency:{self.user_id}:{self.key}:{self.created_at}")


def fingerprint(method: str, path: str, body: bytes) -> str:
    """What makes two requests the same: method, path and query, and the body (as JSON, key order ignored)."""
    try:
        canonical = dumps(json.loads(body)).encode() if body else b""
    except ValueError:
        canonical = body
    return hashlib.sha256(b"\n".join([method.encode(), path.encode(), canonical])).hexdigest()


class IdempotencyKeys:
    """Claims and first responses per (user, key), kept `hours` after the claim, in the event store's database."""

    def __init__(self, factory: InfrastructureFactory[Any], *, hours: float, clock: Callable[[], datetime]) -> None:
        self.db: Database = database(factory, "accord", ["idempotency_keys", "idempotency_keys_created_at"])
        self.lifetime = timedelta(hours=hours)
        self.clock = clock
        with one_at_a_time(factory):
            self.db.run(DDL)

    def claim(self, user_id: str, key: str, request_fingerprint: str) -> Claim:
        """Claim the key for this request, or find the claim made before; the same key on another request is 422."""
        now = self.clock().astimezone(UTC)
        params = {
            "user_id": user_id,
            "key": key,
            "fingerprint": request_fingerprint,
            "claimant": uuid.uuid4().hex,
            "created_at": now.isoformat(timespec="microseconds"),
            "expired": (now - self.lifetime).isoformat(timespec="microseconds"),
        }
        self.db.run(
            [
                "DELETE FROM {t.idempotency_keys} WHERE created_at < {expired}",
                "INSERT INTO {t.idempotency_keys} (user_id, idempotency_key, fingerprint, claimant, created_at)"
                " VALUES ({user_id}, {key}, {fingerprint}, {claimant}, {created_at})"
                " ON CONFLICT (user_id, idempotency_key) DO NOTHING",
            ],
            params,
        )
        row = self.db.fetchone(
            "SELECT * FROM {t.idempotency_keys} WHERE user_id = {user_id} AND idempotency_key = {key}", params
        )
        assert row is not None, "a claim just made or found cannot be missing"
        if row["fingerprint"] != request_fingerprint:
            raise RuleViolated(
                "this Idempotency-Key was first used with another request (method, path or body);"
                " send a new key for a new request",
                field="Idempotency-Key",
            )
        return Claim(
            user_id=user_id,
            key=key,
            fingerprint=request_fingerprint,
            claimant=row["claimant"],
            created_at=row["created_at"],
            response=loads(row["response"]),
            mine=row["claimant"] == params["claimant"],
        )

    def complete(self, claim: Claim, response: dict[str, Any]) -> None:
        """Keep the first response for replay (a racing retry under the same claim does not replace it)."""
        self.db.run(
            [
                "UPDATE {t.idempotency_keys} SET response = {response}"
                " WHERE user_id = {user_id} AND idempotency_key = {key} AND created_at = {created_at}"
                " AND response IS NULL"
            ],
            {"response": dumps(response), "user_id": claim.user_id, "key": claim.key, "created_at": claim.created_at},
        )

    def release(self, claim: Claim) -> None:
        """Free the key of a request that was refused, so nothing was written: a corrected request may use it."""
        self.db.run(
            [
                "DELETE FROM {t.idempotency_keys} WHERE user_id = {user_id} AND idempotency_key = {key}"
                " AND claimant = {claimant} AND response IS NULL"
            ],
            {"user_id": claim.user_id, "key": claim.key, "claimant": claim.claimant},
        )
