"""Reading the event store for a catch-up, one batch ahead when far behind.

While a batch is written to a view (its SQL waits on the database), the next batch is read and decoded
in a thread: the database's time and Python's overlap. A batch is only read ahead after a full one (the
view is behind, as in a rebuild or a worker starting from empty); near the head, a catch-up reads once.
What was read ahead is used only if the catch-up asks for exactly that batch next (another consumer may
have moved the view meanwhile), so the batches applied are the same as without it.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, NamedTuple

from eventsourcing.application import Application


class Read(NamedTuple):
    notifications: Sequence[Any]
    events: list[Any] | None  # None: one of them could not be decoded (the writer finds which, alone).


class Reader:
    """One catch-up's reads: `read` a batch, `ahead` to start reading the next one in a thread."""

    def __init__(self, app: Application[Any], share: Sequence[int] | None = None) -> None:
        """With `share` (buckets: the last bytes of aggregate ids), only the events of those buckets' aggregates,
        from `start` to `stop` (projections/shares.py)."""
        self.app = app
        self.share = share
        self.pool: ThreadPoolExecutor | None = None
        self.pending: tuple[tuple[int, int, int | None], Future[Read]] | None = None

    def read(self, start: int, limit: int, stop: int | None = None) -> Read:
        pending, self.pending = self.pending, None
        if pending is not None and pending[0] == (start, limit, stop):
            return pending[1].result()
        return self.fetch(start, limit, stop)

    def ahead(self, start: int, limit: int, stop: int | None = None) -> None:
        if limit <= 0:
            return
        if self.pool is None:
            self.pool = ThreadPoolExecutor(1, thread_name_prefix="accord-read-ahead")
        self.pending = ((start, limit, stop), self.pool.submit(self.fetch, start, limit, stop))

    def fetch(self, start: int, limit: int, stop: int | None) -> Read:
        notifications = (
            self.app.recorder.select_notifications(start=start, limit=limit, stop=stop)
            if self.share is None
            else self.app.recorder.select_share(start, stop, self.share)  # type: ignore[attr-defined]
        )
        try:
            events: list[Any] | None = [self.app.mapper.to_domain_event(n) for n in notifications]
        except Exception:
            events = None
        return Read(notifications, events)

    def close(self) -> None:
        self.pending = None
        if self.pool is not None:
            self.pool.shutdown(wait=True)  # A read still under way returns its connection first.

    def __enter__(self) -> Reader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
