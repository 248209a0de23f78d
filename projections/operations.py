"""Operating the projections: status, rebuild (fresh tables swapped in), verify, skip a poison event, resume."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from eventsourcing.persistence import Tracking

from projections.registry import RUNNING
from projections.runner import Progress, Runner, collector_paused
from projections.shares import MIN_EVENTS, ShareFailed, build_in_shares
from projections.view import SqlView

REBUILD_BATCH = 5000  # Events per transaction when building a fresh generation nobody reads yet.
__all__ = ["Progress", "Projections"]
log = logging.getLogger(__name__)


class Projections(Runner):
    """The projections of one application: catch-up (projections/runner.py) and their operation."""

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

    def skip(self, name: str, position: int, reason: str) -> None:
        """The recorded way past a poison event: mark it skipped and move the position beyond it."""
        view = self.view(name)
        at = self.position(view)
        if at != position - 1:
            raise ValueError(f"{name} is at position {at}: only position {at + 1} can be skipped")
        view.write([], Tracking(self.app.name, position), expected=position - 1)
        self.registry.skipped(name, position, reason)
        self.resume(name)

    def resume(self, name: str) -> None:
        """Try a stopped projection again (after a fix is deployed)."""
        self.registry.set(name, state=RUNNING, error_position=None, error=None)
        self.views.live(name, fresh=True)

    def rebuild(self, name: str, progress: Progress | None = None) -> int:
        """Build the projection afresh in new tables while the old ones serve, then swap them in."""
        old = self.registry.get(name)["generation"]
        new = old + 1
        fresh = self.views.construct(name, new, reading=False)
        try:
            fresh.drop()  # Leftovers of an interrupted rebuild.
            fresh = self.views.construct(name, new, reading=False)
            fresh = self.build(name, new, fresh, progress=progress or Progress(), reading=True)
            fresh.index()  # Before anyone reads it (if not built already).
        except BaseException:
            fresh.drop()
            raise
        fresh.close()
        self.registry.set(name, generation=new, state=RUNNING, error_position=None, error=None)
        self.views.forget(name)
        self.catch_up(name)
        if old > 1:
            self.views.construct(name, old - 1).drop()  # Keep the previous generation for readers still on it.
        return int(new)

    def build(  # noqa: PLR0913
        self,
        name: str,
        generation: int | str,
        fresh: SqlView,
        *,
        stop: int | None = None,
        progress: Progress | None = None,
        reading: bool = False,
    ) -> SqlView:
        """Apply every event (up to `stop`) to `fresh`, a generation nobody reads yet, and return it: in shares, in
        several processes at once, where the view and the store allow it and there are events enough
        (projections/shares.py); then, or else, here, up to the head. `reading`: readers will read it (a rebuild,
        not a verify), so it needs the indexes only readers use (the caller builds them, if not built here)."""
        progress = progress or Progress()
        progress.total = end = stop if stop is not None else self.app.recorder.max_notification_id() or 0
        shares = min(self.processes, end // MIN_EVENTS)
        if shares > 1 and fresh.place.postgres and type(fresh).by_aggregate:

            def report(applied: int) -> None:
                progress.done += applied
                progress.report(progress.done, progress.total)

            try:
                if reading:  # Its reading indexes first: kept by the shares as they write, where built after them
                    fresh.index()  # they would be one core's work while the others wait (temporal's GiST: 0.5 s).
                progress.peak_mb = build_in_shares(self, name, generation, end=end, shares=shares, report=report)
            except ShareFailed as error:
                log.warning("projection %s: building in shares failed (%s); building in one process", name, error)
                fresh.drop()
                fresh, progress.done = self.views.construct(name, generation, reading=False), 0
            else:
                fresh.write([], Tracking(self.app.name, end), expected=0, built=progress.done)
        with collector_paused():
            self.catch_up(name, view=fresh, stop=stop, progress=progress, batch_size=REBUILD_BATCH)
        return fresh

    def leftovers(self, name: str, stored: Mapping[tuple[int, int], list[str]] | None = None) -> list[tuple[int, int]]:
        """The generations of projection `name` nobody reads any more, as (generation, shape), of those `stored`
        (default: `Views.stored`): every one in a shape the code no longer writes (`SqlView.shape`: the release that
        changed it built the view afresh), and in the live shape those before the one a rebuild keeps for readers
        still on it (the live generation less one). Newer ones are a rebuild's under way; a verify's are the
        verify's to drop."""
        live, shape = self.registry.get(name)["generation"], self.views.classes[name].shape
        return sorted(
            (generation, stored_shape)
            for generation, stored_shape in (self.views.stored(name) if stored is None else stored)
            if stored_shape != shape or generation < live - 1
        )

    def prune(self, name: str) -> list[tuple[int, int]]:
        """Drop the generations of `name` nobody reads any more (`leftovers`); return them. Only once every process
        runs this release: one of an older release may still read a shape this one no longer writes."""
        stored = self.views.stored(name)
        dropped = self.leftovers(name, stored)
        for generation in dropped:
            self.views.remove(stored[generation])
        return dropped

    def verify(self, name: str, attempts: int = 5) -> list[str]:
        """Build the projection afresh up to the live position and compare every table; [] if identical."""
        live = self.view(name)
        generation = f"verify_{uuid.uuid4().hex[:8]}"
        fresh = self.views.construct(name, generation, reading=False)  # Read by `rows` alone.
        try:
            for _ in range(attempts):
                position = self.position(live)
                rows = {table: live.rows(table) for table in live.tables}
                if self.position(live) != position:
                    continue  # The live view moved while being read: read it again.
                fresh = self.build(name, generation, fresh, stop=position)
                return [
                    f"{name}.{table}: {difference}"
                    for table in live.tables
                    for difference in compare(rows[table], fresh.rows(table))
                ]
            return [f"{name}: the live view kept moving; verify again when writes pause"]
        finally:
            fresh.drop()


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
