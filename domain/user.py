"""A user of Accord and the hash of its bearer token; the token itself is never stored."""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event


class User(Aggregate):
    """A person acting for one agency in one role; found by the hash of its token."""

    @staticmethod
    def create_id(token_hash: str, **_: object) -> UUID:
        return uuid5(NAMESPACE_URL, f"accord:token:{token_hash}")

    @event("Registered")
    def __init__(self, *, token_hash: str, name: str, agency: str, role: str) -> None:
        self.name = name
        self.agency = agency
        self.role = role
        self.revoked = False
        self.email: str | None = None  # Set by EmailSet: users registered before emails existed have none.

    def change_email(self, email: str | None) -> None:
        if email != self.email:
            self.set_email(email=email)

    @event("EmailSet")
    def set_email(self, *, email: str | None) -> None:
        self.email = email

    @event("Invited")
    def invite(self) -> None:
        """An invitation to choose a password was issued (its token lives in the credentials store, never here)."""

    @event("PasswordSet")
    def note_password_set(self) -> None:
        """The user chose a password (its hash lives in the credentials store, never in an event)."""

    @event("Revoked")
    def revoke(self) -> None:
        self.revoked = True
