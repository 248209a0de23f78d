"""Run the projections: catch up in batches exactly once, stop loudly on a poison event, rebuild, verify.

Every consumer (in-process after a save, an RQ job, `accord projections rebuild`) goes through
`Projections.catch_up`, which reads the event store from the view's tracked position; SQLite
recorders cannot be subscribed to and a PostgreSQL NOTIFY can be lost, so polling is the mechanism.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from eventsourcing.application import Application
from eventsourcing.persistence import InfrastructureFactory, PersistenceError, Tracking

from projections.sql import Sql, SqlView, Superseded, construct_view, now, one_at_a_time

log = logging.getLogger(__name__)
RUNNING, STOPPED = "running", "stopped"
RETRY_DELAYS = (0.1, 0.5, 2.0)  # Backoff before a poison event stops its projection.
REGISTRY_TTL = 1.0  # Seconds a process trusts its idea of each projection's active generation.
REBUILD_BATCH = 5000  # Events per transaction when building a fresh generation nobody reads yet.


class Registry(Sql):
    """Which generation of each projection is live, and whether it is stopped (and why)."""

    prefix = "accord"

    def __init__(self, factory: InfrastructureFactory[Any]) -> None:
        self.datastore = factory.datastore  # type: ignore[attr-defined]
        self.is_postgres = type(factory).__module__ == "eventsourcing.postgres"
        with one_at_a_time(factory):
            self.create()

    def create(self) -> None:
        self.run(
            [
                "CREATE TABLE IF NOT EXISTS {p}_projections (name TEXT PRIMARY KEY, generation INTEGER NOT NULL,"
                " state TEXT NOT NULL, error_position BIGINT, error TEXT, failures INTEGER NOT NULL,"
                " updated_at TEXT NOT NULL)",
                "CREATE TABLE IF NOT EXISTS {p}_projection_skips (name TEXT NOT NULL, position BIGINT NOT NULL,"
                " reason TEXT NOT NULL, at TEXT NOT NULL, PRIMARY KEY (name, position))",
            ]
        )

    def get(self, name: str) -> dict[str, Any]:
        row = self.fetchone("SELECT * FROM {p}_projections WHERE name = :name", {"name": name})
        if row is None:
            self.run(
                ["INSERT INTO {p}_projections VALUES (:name, 1, 'running', NULL, NULL, 0, :at) ON CONFLICT DO NOTHING"],
                {"name": name, "at": now()},
            )
            return self.get(name)
        return row

    def set(self, name: str, **values: Any) -> None:
        columns = ", ".join(f"{k} = :{k}" for k in values)
        self.run(
            [f"UPDATE {{p}}_projections SET {columns}, updated_at = :at WHERE name = :name"],
            {**values, "name": name, "at": now()},
        )

    def failed(self, name: str) -> None:
        self.run(["UPDATE {p}_projections SET failures = failures + 1 WHERE name = :name"], {"name": name})

    def skips(self, name: str) -> list[dict[str, Any]]:
        return self.fetchall("SELECT * FROM {p}_projection_skips WHERE name = :name ORDER BY position", {"name": name})


@dataclass
class Progress:
    """What a long catch-up reports as it goes: events applied of the total to do."""

    report: Callable[[int, int], None] = lambda done, total: None
    done: int = 0
    total: int = 0


@dataclass
class Projections:
    app: Application[Any]
    factory: InfrastructureFactory[Any]
    classes: Sequence[type[Any]]
    batch_size: int = 500
    registry: Registry = field(init=False)
    _views: dict[str, tuple[float, int, Any]] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self._lock = threading.RLock()
        self.registry = Registry(self.factory)
        self.by_name = {cls.name: cls for cls in self.classes}

    @property
    def names(self) -> list[str]:
        return list(self.by_name)

    # Views.

    def view(self, name: str) -> Any:
        """The live generation's view (re-read from the registry at most every REGISTRY_TTL seconds)."""
        with self._lock:
            checked, generation, view = self._views.get(name, (0.0, 0, None))
            if time.monotonic() - checked > REGISTRY_TTL:
                live = self.registry.get(name)["generation"]
                if live != generation:
                    view = self.construct(name, live)
                self._views[name] = (time.monotonic(), live, view)
            return view

    def construct(self, name: str, generation: int | str) -> Any:
        return construct_view(self.factory, self.by_name[name].view_class, f"{name}_{generation}")

    def position(self, view: SqlView) -> int:
        return view.max_tracking_id(self.app.name) or 0  # type: ignore[attr-defined]

    # Catching up.

    def catch_up_all(self) -> int:
        return sum(self.catch_up(name) for name in self.names)

    def catch_up(
        self,
        name: str,
        view: Any = None,
        stop: int | None = None,
        progress: Progress | None = None,
        batch_size: int | None = None,
    ) -> int:
        """Apply every event after the view's position (up to `stop`); return how many were applied.

        A batch that fails is retried event by event; an event that still fails after RETRY_DELAYS
        stops the projection at its position. Database errors are not the event's fault: they
        propagate, and the next nudge or timer tick tries again.
        """
        live = view is None
        if live and self.registry.get(name)["state"] == STOPPED:
            return 0
        view = view or self.view(name)
        applied = 0
        while True:
            position = self.position(view)
            batch = batch_size or self.batch_size
            limit = batch if stop is None else min(batch, stop - position)
            if limit <= 0:
                return applied
            notifications = self.app.recorder.select_notifications(start=position + 1, limit=limit, stop=stop)
            if not notifications:
                return applied
            try:
                self.write(view, notifications, position)
            except Superseded:
                continue  # Another consumer applied this batch: carry on from where it got to.
            except PersistenceError:
                raise
            except Exception:
                if not self.isolate(name, view, notifications, position, live):
                    return applied
            applied += len(notifications)
            if progress:
                progress.done += len(notifications)
                progress.report(progress.done, progress.total)

    def write(self, view: SqlView, notifications: Sequence[Any], position: int) -> None:
        events = [self.app.mapper.to_domain_event(n) for n in notifications]
        view.write(events, Tracking(self.app.name, notifications[-1].id), expected=position)

    def isolate(self, name: str, view: SqlView, notifications: Sequence[Any], position: int, live: bool) -> bool:
        """Apply the batch one event at a time with backoff; False if one had to stop the projection."""
        for notification in notifications:
            for attempt, delay in enumerate((0.0, *RETRY_DELAYS)):
                time.sleep(delay)
                try:
                    self.write(view, [notification], position)
                    break
                except Superseded:
                    return True
                except PersistenceError:
                    raise
                except Exception as error:
                    self.registry.failed(name)
                    log.warning(
                        "projection %s failed at position %s (attempt %s): %s",
                        name,
                        notification.id,
                        attempt + 1,
                        type(error).__name__,
                    )
                    last = error
            else:
                reason = f"{type(last).__name__} applying {notification.topic} at position {notification.id}"
                log.error("projection %s stopped: %s", name, reason)
                if live:
                    self.registry.set(name, state=STOPPED, error_position=notification.id, error=reason)
                    return False
                raise RuntimeError(f"projection {name} cannot apply position {notification.id}: {reason}")
            position = notification.id
        return True

    # Operating.

    def skip(self, name: str, position: int, reason: str) -> None:
        """The recorded way past a poison event: mark it skipped and move the position beyond it."""
        view = self.view(name)
        if self.position(view) != position - 1:
            raise ValueError(
                f"{name} is at position {self.position(view)}: only position {self.position(view) + 1} can be skipped"
            )
        view.write([], Tracking(self.app.name, position), expected=position - 1)
        self.registry.run(
            ["INSERT INTO {p}_projection_skips VALUES (:name, :position, :reason, :at)"],
            {"name": name, "position": position, "reason": reason, "at": now()},
        )
        self.registry.set(name, state=RUNNING, error_position=None, error=None)

    def resume(self, name: str) -> None:
        """Try a stopped projection again (after a fix is deployed)."""
        self.registry.set(name, state=RUNNING, error_position=None, error=None)

    def rebuild(self, name: str, progress: Progress | None = None) -> int:
        """Build the projection afresh in new tables while the old ones serve, then swap them in."""
        old = self.registry.get(name)["generation"]
        new = old + 1
        fresh = self.construct(name, new)
        try:
            fresh.drop()  # Leftovers of an interrupted rebuild.
            fresh = self.construct(name, new)
            progress = progress or Progress()
            progress.total = self.app.recorder.max_notification_id() or 0
            self.catch_up(name, view=fresh, progress=progress, batch_size=REBUILD_BATCH)
        except BaseException:
            fresh.drop()
            raise
        self.registry.set(name, generation=new, state=RUNNING, error_position=None, error=None)
        self._views.pop(name, None)
        self.catch_up(name)
        if old > 1:
            self.construct(name, old - 1).drop()  # Keep the previous generation for readers still on it.
        return new

    def verify(self, name: str, attempts: int = 5) -> list[str]:
        """Build the projection afresh up to the live position and compare every table; [] if identical."""
        live = self.view(name)
        fresh = self.construct(name, f"verify_{uuid.uuid4().hex[:8]}")
        try:
            for _ in range(attempts):
                position = self.position(live)
                rows = {table: live.rows(table) for table in live.tables}
                if self.position(live) != position:
                    continue  # The live view moved while being read: read it again.
                self.catch_up(name, view=fresh, stop=position, batch_size=REBUILD_BATCH)
                return [
                    f"{name}.{table}: {difference}"
                    for table in live.tables
                    for difference in compare(rows[table], fresh.rows(table))
                ]
            return [f"{name}: the live view kept moving; verify again when writes pause"]
        finally:
            fresh.drop()

    def status(self) -> list[dict[str, Any]]:
        head = self.app.recorder.max_notification_id() or 0
        report = []
        for name in self.names:
            entry = self.registry.get(name)
            view = self.view(name)
            position = self.position(view)
            report.append(
                {
                    "name": name,
                    "generation": entry["generation"],
                    "state": entry["state"],
                    "position": position,
                    "head": head,
                    "lag_events": head - position,
                    "lag_seconds": self.lag_seconds(position, head),
                    "processed": view.processed(),
                    "failures": entry["failures"],
                    "error": entry["error"],
                    "error_position": entry["error_position"],
                    "skips": self.registry.skips(name),
                }
            )
        return report

    def lag_seconds(self, position: int, head: int) -> float:
        """How long the oldest event this view has not applied has been waiting."""
        if position >= head:
            return 0.0
        oldest = self.app.recorder.select_notifications(start=position + 1, limit=1)
        try:
            recorded = self.app.mapper.to_domain_event(oldest[0]).timestamp
        except Exception:
            return float("nan")
        return max(0.0, (datetime.now(UTC) - recorded).total_seconds())

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


def compare(live: list[dict[str, Any]], fresh: list[dict[str, Any]], limit: int = 5) -> list[str]:
    """Differences between a view's rows and the same view built afresh (rows in key order)."""
    differences = []
    if len(live) != len(fresh):
        differences.append(f"{len(live)} rows live, {len(fresh)} rebuilt")
    for a, b in zip(live, fresh, strict=False):
        if a != b:
            changed = sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))
            differences.append(f"row {next(iter(a.values()))} differs in {', '.join(changed)}")
        if len(differences) >= limit:
            break
    return differences
