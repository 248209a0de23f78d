"""Catch the projections up: read the event store from each view's position in batches, apply exactly once.

Every consumer (in-process after a save, an RQ job, `accord projections rebuild`) goes through
`Runner.catch_up`; SQLite recorders cannot be subscribed to and a PostgreSQL NOTIFY can be lost, so
polling from the tracked position is the mechanism. An event that cannot be applied stops its
projection at once, loudly (registry state, status, /metrics, /readyz): no retry sleeps here, so
none can happen inside an HTTP request; `accord projections resume` tries again after a fix,
`skip` records the way past. A database that does not answer is not the event's fault: that error
propagates, and the next nudge or timer tick tries again.
"""

from __future__ import annotations

import bisect
import gc
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

from eventsourcing.application import Application
from eventsourcing.persistence import InterfaceError, OperationalError, Tracking

from projections.reader import Reader
from projections.registry import STOPPED, Views
from projections.view import SqlView, Superseded

log = logging.getLogger(__name__)
MAX_BATCH = 5000  # Events per transaction at most.
MAX_GAP = 1000  # Events another consumer applied that a view's memory is brought forward by; beyond, it lets go.
TRANSIENT = (OperationalError, InterfaceError)  # The database, not the event: try again later.


@dataclass
class Progress:
    """What a long catch-up reports as it goes: events applied of the total to do."""

    report: Callable[[int, int], None] = lambda done, total: None
    done: int = 0
    total: int = 0
    peak_mb: list[float] = field(default_factory=list)  # Each share's process's peak memory (shares.memory_mb).

    @property
    def shares(self) -> int:
        """How many processes built it at once (projections/shares.py)."""
        return len(self.peak_mb) or 1


class Runner:
    def __init__(
        self,
        app: Application[Any],
        env: Mapping[str, str],
        views: Mapping[str, type[SqlView]],
        batch_size: int = 500,
        processes: int = 1,
    ) -> None:
        self.app = app
        self.batch_size = batch_size
        self.processes = processes  # At most, to build a fresh generation in (projections/shares.py).
        self.views = Views(env, views, lambda aggregate_id, version: app.repository.get(aggregate_id, version=version))
        self.registry = self.views.registry
        self.locks = {name: threading.Lock() for name in views}

    @property
    def names(self) -> list[str]:
        return list(self.views.classes)

    def view(self, name: str) -> Any:
        """The live generation's view."""
        return self.views.live(name).view

    def position(self, view: SqlView) -> int:
        return view.position(self.app.name)

    def rejoin(self, view: SqlView) -> int:
        """The view's position, with what this consumer keeps in memory for it brought forward to it (under the
        view's lock: memory is shared by the catch-ups of this process)."""
        position = self.position(view)
        if view.at is not None and view.at != position and view.advances:
            self.bring_forward(view, view.at, position)
        view.at = position
        return position

    def bring_forward(self, view: SqlView, at: int, position: int) -> None:
        """What `view` keeps in memory is valid at `at`, where this consumer left it; another consumer (the other
        worker) has moved it to `position` since. One read of the events it applied brings the memory forward
        (where each action they touched would be read on its own); far behind, the memory is let go."""
        if not at < position <= at + MAX_GAP:
            view.forget()
            return
        _, events = Reader(self.app).fetch(at + 1, position - at, position)
        if events is None:
            view.forget()  # An undecodable event: the catch-up meets it again, and stops there.
            return
        view.advance(events)

    def catch_up_all(self, names: Iterable[str] | None = None) -> int:
        """Catch every running projection (or those named) up, reading and decoding each batch once for all."""
        live = {name: self.views.live(name) for name in (self.names if names is None else names)}
        views = {name: current.view for name, current in live.items() if current.state != STOPPED}
        with ExitStack() as held:
            for name in views:  # In one order everywhere; `catch_up` holds one lock at a time.
                held.enter_context(self.locks[name])
            at = {name: self.rejoin(view) for name, view in views.items()}
            applied, batch = 0, self.batch_size
            with Reader(self.app) as reader:
                while at:
                    notifications, events = reader.read(min(at.values()) + 1, batch)
                    if not notifications:
                        return applied
                    if len(notifications) == batch:  # Behind: read the next batch while this one is written.
                        reader.ahead(notifications[-1].id + 1, min(2 * batch, MAX_BATCH))
                    applied += self.share(views, at, notifications, events)
                    # The head was reached, unless a view found another process had moved it and is still behind.
                    if len(notifications) < batch and all(p >= notifications[-1].id for p in at.values()):
                        return applied
                    batch = min(2 * batch, MAX_BATCH)
            return applied

    def share(
        self, views: Mapping[str, SqlView], at: dict[str, int], notifications: Sequence[Any], events: list[Any] | None
    ) -> int:
        """Write one batch to every view behind its end (each from its own position, in its own transaction);
        `events` None: the batch holds an undecodable event, which each view finds (and stops at) alone."""
        ids = [n.id for n in notifications]
        last, applied = ids[-1], 0
        for name in list(at):
            position = at[name]
            if position >= last:
                continue
            skip = bisect.bisect_right(ids, position)
            try:
                if events is None:
                    raise ValueError("a batch with an undecodable event")
                views[name].write(events[skip:], Tracking(self.app.name, last), expected=position)
                at[name], applied = last, applied + len(ids) - skip
            except Superseded:
                at[name] = self.rejoin(views[name])
            except TRANSIENT:
                raise
            except Exception:
                if self.isolate(name, views[name], notifications[skip:], position, live=True):
                    at[name] = self.rejoin(views[name])
                else:
                    del at[name]  # Stopped: the others carry on.
        return applied

    def catch_up(  # noqa: PLR0913
        self,
        name: str,
        view: SqlView | None = None,
        *,
        stop: int | None = None,
        progress: Progress | None = None,
        batch_size: int | None = None,
        at_head: Callable[[], None] | None = None,
    ) -> int:
        """Apply every event after the view's position (up to `stop`); return how many were applied.

        Without `view`, the live one (and nothing while it is stopped); with `view` (a rebuild or a
        verify), an event that cannot be applied raises instead of stopping the live projection.
        `at_head` is called once the head is first reached; then what was recorded meanwhile is applied too.
        """
        if view is not None:
            return self.apply_pending(name, view, stop, progress, batch_size, live=False)
        current = self.views.live(name)
        if current.state == STOPPED:
            if at_head:
                at_head()
            return 0
        with self.locks[name]:  # One catch-up per view at a time in this process: they share its memory.
            return self.apply_pending(name, current.view, stop, progress, batch_size, live=True, at_head=at_head)

    def apply_pending(  # noqa: PLR0913
        self,
        name: str,
        view: SqlView,
        stop: int | None,
        progress: Progress | None,
        batch_size: int | None,
        *,
        live: bool,
        at_head: Callable[[], None] | None = None,
    ) -> int:
        applied = 0
        position = self.rejoin(view)
        with Reader(self.app) as reader:
            while True:
                batch = batch_size or self.batch_size
                limit = up_to(batch, position, stop)
                if limit <= 0:
                    return applied
                notifications, events = reader.read(position + 1, limit, stop)
                if notifications:
                    if len(notifications) == limit:  # Behind: read the next batch while this one is written.
                        after = notifications[-1].id
                        reader.ahead(after + 1, up_to(min(2 * batch, MAX_BATCH), after, stop), stop)
                    try:
                        self.write(view, notifications, position, events)
                    except Superseded:
                        position = self.rejoin(view)  # Another consumer applied this batch: go on from its position.
                        continue
                    except TRANSIENT:
                        raise
                    except Exception:
                        if not self.isolate(name, view, notifications, position, live):
                            return applied
                        position = self.rejoin(view)
                    else:
                        position = notifications[-1].id
                    applied += len(notifications)
                    if progress:
                        progress.done += len(notifications)
                        progress.report(progress.done, progress.total)
                if len(notifications) < limit:  # It read up to the head.
                    if at_head is None:
                        return applied  # No need to ask again: a later save nudges again.
                    at_head, then = None, at_head
                    then()
                    continue
                batch_size = min(2 * batch, MAX_BATCH)  # Far behind (a worker starting from empty): bigger batches.

    def write(
        self, view: SqlView, notifications: Sequence[Any], position: int, events: list[Any] | None = None
    ) -> None:
        if events is None:
            events = [self.app.mapper.to_domain_event(n) for n in notifications]
        view.write(events, Tracking(self.app.name, notifications[-1].id), expected=position)

    def isolate(self, name: str, view: SqlView, notifications: Sequence[Any], position: int, live: bool) -> bool:
        """Apply the batch one event at a time; at the first that fails, stop (False) or, off the live view, raise."""
        for notification in notifications:
            try:
                self.write(view, [notification], position)
            except Superseded:
                return True
            except TRANSIENT:
                raise
            except Exception as error:
                # Names only the error's type, the event's type and its position: never the event's content.
                reason = f"{type(error).__name__} applying {notification.topic} at position {notification.id}"
                if not live:
                    raise RuntimeError(
                        f"projection {name} cannot apply position {notification.id}: {reason}"
                    ) from error
                log.error("projection %s stopped: %s", name, reason)
                self.registry.stop(name, notification.id, reason)
                self.views.live(name, fresh=True)
                return False
            position = notification.id
        return True

    def wait(self, position: int, timeout: float) -> bool:
        """Block until every projection has reached `position`, or the timeout passes."""
        deadline = time.monotonic() + timeout
        delay = 0.01
        while any(self.position(self.view(n)) < position for n in self.names):
            if time.monotonic() >= deadline:
                return False
            time.sleep(delay)
            delay = min(delay * 2, 0.2)
        return True

    def close(self) -> None:
        self.views.close()


def up_to(batch: int, position: int, stop: int | None) -> int:
    """How many events to read after `position`: a batch, but none past `stop`."""
    return batch if stop is None else min(batch, stop - position)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for a long build (a rebuild, a worker starting from empty).

    A build keeps what it folds (the actions a view holds) and the collector's passes over it took a fifth
    of a rebuild's CPU, while the build makes next to no cyclic garbage (44 objects left after rebuilding
    three views of 102,002 events): reference counting frees the rest as it goes. The collector runs again
    afterwards, as it was.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
