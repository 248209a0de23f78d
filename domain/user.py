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

    @event("Revoked")
    def revoke(self) -> None:
        self.revoked = True
