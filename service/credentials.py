"""People's sign-in secrets, kept out of the append-only event store: password hashes (Argon2id), invitation
token hashes, and the instant before which a user's sessions no longer count (sign-out, a new password).

A table of the event store's database, like the idempotency keys: a replaced password hash is gone for good,
which it could never be in an event. The facts (invited, password set) are recorded as User events.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from eventsourcing.persistence import InfrastructureFactory

from adapters.sql import Database, database, instant, one_at_a_time
from domain.errors import RuleViolated

DDL = (
    "CREATE TABLE IF NOT EXISTS {t.passwords} (user_id TEXT PRIMARY KEY, password_hash TEXT NOT NULL,"
    " sessions_after TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS {t.invitations} (token_hash TEXT PRIMARY KEY, user_id TEXT NOT NULL,"
    " expires_at TEXT NOT NULL, used_at TEXT)",
)
INVITATION_HOURS = 72
PASSWORD_MIN = 12
PASSWORD_MAX = 256  # Argon2 takes any length; a bound keeps one sign-in from costing the server much more.
COMMON = Path(__file__).with_name("common-passwords.txt")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def common_passwords() -> frozenset[str]:
    lines = COMMON.read_text().splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def check_password(password: str, *, email: str | None = None) -> None:
    """At least 12 characters, not a well-known password, not the email address (NCSC and NIST SP 800-63B)."""
    if len(password) < PASSWORD_MIN:
        raise RuleViolated(f"Password must be {PASSWORD_MIN} characters or more", field="password")
    if len(password) > PASSWORD_MAX:
        raise RuleViolated(f"Password must be {PASSWORD_MAX} characters or fewer", field="password")
    folded = password.strip().lower()
    if folded in common_passwords() or len(set(folded)) <= 2 or (email and email.lower() in folded):
        raise RuleViolated("Password is too easy to guess: choose a less common one", field="password")


class Credentials:
    """Password hashes and invitations, per user id, in the event store's database."""

    def __init__(self, factory: InfrastructureFactory[Any], clock: Callable[[], datetime]) -> None:
        self.db: Database = database(factory, "accord", ["passwords", "invitations"])
        self.clock = clock
        self.hasher = PasswordHasher()  # Argon2id, with the library's (RFC 9106) recommended parameters.
        self.dummy = self.hasher.hash("an unknown account costs a sign-in as much as a known one")
        with one_at_a_time(factory):
            self.db.run(DDL)

    def add_invitation(self, user_id: str, token: str) -> datetime:
        """Keep the hash of a new invitation token; return when it expires."""
        expires = self.clock() + timedelta(hours=INVITATION_HOURS)
        self.db.run(
            ["INSERT INTO {t.invitations} (token_hash, user_id, expires_at) VALUES ({h}, {user_id}, {expires})"],
            {"h": token_hash(token), "user_id": user_id, "expires": instant(expires)},
        )
        return expires

    def invited_user(self, token: str) -> str | None:
        """The user an unused, unexpired invitation token is for, or None."""
        row = self.db.fetchone(
            "SELECT user_id FROM {t.invitations} WHERE token_hash = {h} AND used_at IS NULL AND expires_at > {now}",
            {"h": token_hash(token), "now": instant(self.clock())},
        )
        return row["user_id"] if row else None

    def use_invitation(self, token: str, user_id: str, password: str) -> bool:
        """Spend the invitation and set the password, together; False if the token was spent or expired meanwhile."""
        now = instant(self.clock())
        with self.db.transaction(commit=True) as c:
            self.db.execute(
                c,
                "UPDATE {t.invitations} SET used_at = {now} WHERE token_hash = {h} AND user_id = {user_id}"
                " AND used_at IS NULL AND expires_at > {now}",
                {"now": now, "h": token_hash(token), "user_id": user_id},
            )
            if getattr(c, "sqlite_cursor", c).rowcount != 1:  # The library wraps SQLite's cursor.
                return False
            self._set(c, user_id, self.hasher.hash(password), now)
        return True

    def set_password(self, user_id: str, password: str) -> None:
        with self.db.transaction(commit=True) as c:
            self._set(c, user_id, self.hasher.hash(password), instant(self.clock()))

    def _set(self, c: Any, user_id: str, password_hash: str, now: str) -> None:
        self.db.execute(
            c,
            "INSERT INTO {t.passwords} (user_id, password_hash, sessions_after) VALUES ({user_id}, {hash}, {now})"
            " ON CONFLICT (user_id) DO UPDATE SET password_hash = {hash}, sessions_after = {now}",
            {"user_id": user_id, "hash": password_hash, "now": now},
        )

    def verify(self, user_id: str | None, password: str) -> bool:
        """Whether the password is the user's; an unknown user takes as long, so timing tells nothing."""
        row = self.db.fetchone("SELECT password_hash FROM {t.passwords} WHERE user_id = {u}", {"u": user_id or ""})
        try:
            self.hasher.verify(row["password_hash"] if row else self.dummy, password)
        except (VerificationError, InvalidHashError):
            return False
        if row is None:
            return False
        if self.hasher.check_needs_rehash(row["password_hash"]):  # Parameters raised since: keep the stronger hash.
            self.db.run(
                ["UPDATE {t.passwords} SET password_hash = {hash} WHERE user_id = {u}"],
                {"hash": self.hasher.hash(password), "u": user_id},
            )
        return True

    def sessions_after(self, user_id: str) -> datetime | None:
        """Sessions begun before this instant no longer count (signed out, or the password changed)."""
        row = self.db.fetchone("SELECT sessions_after FROM {t.passwords} WHERE user_id = {u}", {"u": user_id})
        return datetime.fromisoformat(row["sessions_after"]) if row else None

    def end_sessions(self, user_id: str) -> None:
        self.db.run(
            ["UPDATE {t.passwords} SET sessions_after = {now} WHERE user_id = {u}"],
            {"now": instant(self.clock()), "u": user_id},
        )
