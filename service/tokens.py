"""Who a bearer token belongs to, remembered for a few seconds: every API request authenticates, and reading the
user's events each time would cost a database round trip per request.

A revoked token is refused by every process within TOKEN_SECONDS (at once by the process that revoked it); an
unknown token is never remembered, so a user added a moment ago is let in on its first request.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from domain.principals import Principal

TOKEN_SECONDS = 5.0  # The longest a revoked token is still accepted by another process (ACCORD_TOKEN_SECONDS).
TOKENS_KEPT = 10_000  # Bound on the tokens remembered per process; beyond it the oldest are forgotten.


class Principals:
    """Principals by token hash, each for TOKEN_SECONDS after it was read from the store."""

    def __init__(
        self, seconds: float = TOKEN_SECONDS, kept: int = TOKENS_KEPT, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.seconds = seconds
        self.kept = kept
        self.clock = clock
        self.entries: dict[str, tuple[float, Principal]] = {}
        self.lock = threading.Lock()

    def get(self, token_hash: str, read: Callable[[], Principal | None]) -> Principal | None:
        """The remembered principal, or `read()`'s answer (remembered if it is one)."""
        now = self.clock()
        with self.lock:
            found = self.entries.get(token_hash)
        if found is not None and now < found[0]:
            return found[1]
        principal = read()
        with self.lock:
            if principal is None or self.seconds <= 0:
                self.entries.pop(token_hash, None)
            else:
                if len(self.entries) >= self.kept:
                    del self.entries[next(iter(self.entries))]  # Dicts keep insertion order: the oldest goes.
                self.entries[token_hash] = (now + self.seconds, principal)
        return principal

    def forget(self, user_id: str) -> None:
        with self.lock:
            for token_hash, (_, principal) in list(self.entries.items()):
                if principal.user_id == user_id:
                    del self.entries[token_hash]
