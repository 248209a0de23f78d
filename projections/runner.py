"""Catch a projection up from its tracked position by reading the event store in batches.

SQLite recorders cannot be subscribed to, and a PostgreSQL subscription can miss a NOTIFY, so every
consumer (in-process after a save, or an RQ job) polls `select_notifications` from the position
its view has recorded. Rows and position are written in one transaction, so a batch applied twice
by racing consumers fails the second time on the tracking row and changes nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from eventsourcing.application import Application
from eventsourcing.persistence import IntegrityError, Tracking
from eventsourcing.projection import Projection

BATCH_SIZE = 500


class CatchUp:
    def __init__(self, app: Application[Any], projections: Sequence[Projection[Any]], batch_size: int = BATCH_SIZE):
        self.app = app
        self.projections = {p.name: p for p in projections}
        self.batch_size = batch_size
        self._locks = {name: threading.Lock() for name in self.projections}

    def position(self, name: str) -> int:
        return self.projections[name].view.max_tracking_id(self.app.name) or 0

    def run_all(self) -> int:
        return sum(self.run(name) for name in self.projections)

    def run(self, name: str) -> int:
        """Apply every event after the projection's position; return how many were applied."""
        projection = self.projections[name]
        applied = 0
        with self._locks[name]:
            while True:
                start = self.position(name) + 1
                notifications = self.app.recorder.select_notifications(
                    start=start, limit=self.batch_size, topics=projection.topics
                )
                if not notifications:
                    return applied
                events = [self.app.mapper.to_domain_event(n) for n in notifications]
                try:
                    projection.view.write(events, Tracking(self.app.name, notifications[-1].id))
                except IntegrityError:
                    return applied  # Another consumer recorded this batch first.
                applied += len(events)
