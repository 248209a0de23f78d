"""A user of Accord and the hash of its bearer token; the token itself is never stored."""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from domain.clock import StampedAggregate


class User(StampedAggregate):
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
        self.digests = True  # The weekly digest, for editors with an address, until they turn it off.

    def change_email(self, email: str | None) -> None:
        if email != self.email:
            self.set_email(email=email)

    @event("EmailSet")
    def set_email(self, *, email: str | None) -> None:
        self.email = email

    def change_digests(self, on: bool) -> None:
        if on and not self.digests:
            self.turn_digests_on()
        elif not on and self.digests:
            self.turn_digests_off()

    @event("DigestsTurnedOn")
    def turn_digests_on(self) -> None:
        self.digests = True

    @event("DigestsTurnedOff")
    def turn_digests_off(self) -> None:
        self.digests = False

    @event("Invited")
    def invite(self) -> None:
        """An invitation to choose a password was issued (its token lives in the credentials store, never here)."""

    @event("PasswordSet")
    def note_password_set(self) -> None:
        """The user chose a password (its hash lives in the credentials store, never in an event)."""

    @event("Revoked")
    def revoke(self) -> None:
        self.revoked = True
