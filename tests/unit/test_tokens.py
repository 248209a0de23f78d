"""A checked token is trusted for TOKEN_SECONDS: a revocation elsewhere shows within that bound, at once here."""

from __future__ import annotations

from domain.principals import Principal
from service.tokens import Principals

EDITOR = Principal("u1", "Dr Khan", "health", "editor")


class Store:
    """What the event store says about the token, and how often it was asked."""

    def __init__(self) -> None:
        self.answer: Principal | None = EDITOR
        self.reads = 0

    def read(self) -> Principal | None:
        self.reads += 1
        return self.answer


def test_a_token_is_read_once_within_the_bound_and_again_after_it() -> None:
    now, store = [100.0], Store()
    principals = Principals(seconds=5, clock=lambda: now[0])
    assert principals.get("hash", store.read) == EDITOR
    now[0] += 4.9
    assert principals.get("hash", store.read) == EDITOR
    assert store.reads == 1
    store.answer = None  # Revoked by another process.
    now[0] += 0.2
    assert principals.get("hash", store.read) is None
    assert store.reads == 2


def test_a_revocation_in_this_process_shows_at_once() -> None:
    store = Store()
    principals = Principals(seconds=5)
    principals.get("hash", store.read)
    principals.forget(EDITOR.user_id)
    store.answer = None
    assert principals.get("hash", store.read) is None


def test_an_unknown_token_is_never_remembered() -> None:
    store = Store()
    store.answer = None
    principals = Principals(seconds=5)
    assert principals.get("hash", store.read) is None
    store.answer = EDITOR  # The user is added a moment later.
    assert principals.get("hash", store.read) == EDITOR


def test_the_oldest_token_is_forgotten_beyond_the_bound_on_tokens_kept() -> None:
    store = Store()
    principals = Principals(seconds=5, kept=2)
    for token_hash in ("a", "b", "c"):
        principals.get(token_hash, store.read)
    principals.get("a", store.read)
    assert store.reads == 4
