"""Which projections exist, which generation of each is live, and whether it is stopped (and why).

`VIEWS` is the one map of projections: name -> view class. The registry table lives beside the views
(PostgreSQL: the same schema; SQLite: the views' own file), and `Views` builds and caches each live view.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eventsourcing.persistence import InfrastructureFactory

from adapters.sql import (
    Database,
    database,
    factory,
    identifier,
    is_postgres,
    now,
    one_at_a_time,
    remove_sqlite_file,
)
from projections.current_status import CurrentStatusView
from projections.history import HistoryView
from projections.meetings import MeetingsView
from projections.rollups import RollupsView
from projections.temporal import TemporalView
from projections.view import Load, Place, SqlView

VIEWS: dict[str, type[SqlView]] = {
    "current_status": CurrentStatusView,
    "rollups": RollupsView,
    "history": HistoryView,
    "temporal": TemporalView,
    "meetings": MeetingsView,
}
RUNNING, STOPPED = "running", "stopped"
REGISTRY_TTL = 1.0  # Seconds a process trusts its idea of each projection's generation and state.
SETTABLE = ("generation", "state", "error_position", "error")  # The registry columns `set` may change.


class Registry:
    """The table of projections: generation, state, the stopping error, failures; and the skips made."""

    def __init__(self, store: InfrastructureFactory[Any]) -> None:
        self.db: Database = database(store, "accord", ["projections", "projection_skips"])
        with one_at_a_time(store):
            self.db.run(
                [
                    "CREATE TABLE IF NOT EXISTS {t.projections} (name TEXT PRIMARY KEY, generation INTEGER NOT NULL,"
                    " state TEXT NOT NULL, error_position BIGINT, error TEXT, failures INTEGER NOT NULL,"
                    " updated_at TEXT NOT NULL)",
                    "CREATE TABLE IF NOT EXISTS {t.projection_skips} (name TEXT NOT NULL, position BIGINT NOT NULL,"
                    " reason TEXT NOT NULL, at TEXT NOT NULL, PRIMARY KEY (name, position))",
                ]
            )

    def get(self, name: str) -> dict[str, Any]:
        row = self.db.fetchone("SELECT * FROM {t.projections} WHERE name = {name}", {"name": name})
        if row is None:
            self.db.run(
                [
                    "INSERT INTO {t.projections} VALUES ({name}, 1, 'running', NULL, NULL, 0, {at})"
                    " ON CONFLICT DO NOTHING"
                ],
                {"name": name, "at": now()},
            )
            return self.get(name)
        return row

    def set(self, name: str, **values: Any) -> None:
        unknown = set(values) - set(SETTABLE)
        if unknown:
            raise ValueError(f"not a registry column: {', '.join(sorted(unknown))}")
        columns = ", ".join(f"{column} = {{{column}}}" for column in SETTABLE if column in values)
        self.db.run(
            ["UPDATE {t.projections} SET " + columns + ", updated_at = {at} WHERE name = {name}"],
            {**values, "name": name, "at": now()},
        )

    def stop(self, name: str, position: int, error: str) -> None:
        self.db.run(
            [
                "UPDATE {t.projections} SET state = 'stopped', error_position = {position}, error = {error},"
                " failures = failures + 1, updated_at = {at} WHERE name = {name}"
            ],
            {"name": name, "position": position, "error": error, "at": now()},
        )

    def skipped(self, name: str, position: int, reason: str) -> None:
        self.db.run(
            ["INSERT INTO {t.projection_skips} VALUES ({name}, {position}, {reason}, {at})"],
            {"name": name, "position": position, "reason": reason, "at": now()},
        )

    def skips(self, name: str) -> list[dict[str, Any]]:
        return self.db.fetchall(
            "SELECT * FROM {t.projection_skips} WHERE name = {name} ORDER BY position", {"name": name}
        )


@dataclass
class Live:
    checked: float
    generation: int
    state: str
    view: SqlView


class Views:
    """The live generation of each projection's view, built once and re-checked at most every REGISTRY_TTL."""

    def __init__(self, env: Mapping[str, str], classes: Mapping[str, type[SqlView]], load: Load) -> None:
        self.env = dict(env)
        self.classes = dict(classes)
        self.load = load
        # PostgreSQL: one datastore (pool) for the registry and every view; SQLite: the registry's own file.
        self.store = factory(self.env, "views")
        self.postgres = is_postgres(self.store)
        self.registry = Registry(self.store)
        self._lock = threading.RLock()
        self._live: dict[str, Live] = {}

    def construct(self, name: str, generation: int | str, *, reading: bool = True) -> SqlView:
        """The view of that generation, its tables created if they were not (without the indexes only readers
        use, if not `reading`: see `SqlView.reading_ddl`)."""
        cls = self.classes[name]
        view = cls(
            Place.of(self.env, name, generation, cls.shape, self.postgres),
            self.store if self.postgres else None,
            self.load,
        )
        view.create(reading)
        return view

    def live(self, name: str, *, fresh: bool = False) -> Live:
        with self._lock:
            live = self._live.get(name)
            if fresh or live is None or time.monotonic() - live.checked > REGISTRY_TTL:
                entry = self.registry.get(name)
                if live is None or live.generation != entry["generation"]:
                    live = Live(0.0, entry["generation"], entry["state"], self.construct(name, entry["generation"]))
                live.checked, live.state = time.monotonic(), entry["state"]
                self._live[name] = live
            return live

    def forget(self, name: str) -> None:
        with self._lock:
            self._live.pop(name, None)

    def stored(self, name: str) -> dict[tuple[int, int], list[str]]:
        """The numbered generations of projection `name` there are tables of, whatever their shape (`Place.of`):
        (generation, shape) -> the names of its tables (PostgreSQL) or of its file (SQLite). A verify's generation
        (`verify_...`) is not numbered: it is left to the verify, which drops it."""
        prefix = rf"{re.escape(identifier(name))}_g(\d+)(?:_s(\d+))?"
        if self.postgres:
            rows = self.registry.db.fetchall(
                "SELECT tablename FROM pg_tables WHERE schemaname = {schema}",
                {"schema": self.registry.db.dialect.schema},
            )
            named = [(row["tablename"], rf"{prefix}_[a-z][a-z_]*") for row in rows]  # `<prefix>_<table>`
        else:
            path = Path(self.env["SQLITE_DBNAME"])  # `accord.views.db`: each generation's file beside it.
            files = path.parent.glob(f"{path.stem}.{identifier(name)}_g*{path.suffix}")
            named = [(f.name, rf"{re.escape(path.stem)}\.{prefix}{re.escape(path.suffix)}") for f in files]
        found: dict[tuple[int, int], list[str]] = {}
        for stored, pattern in named:
            if match := re.fullmatch(pattern, stored):
                found.setdefault((int(match[1]), int(match[2] or 1)), []).append(stored)
        return found

    def remove(self, stored: list[str]) -> None:
        """Drop one generation's tables, or its file, as `stored` names them."""
        if self.postgres:
            with self.registry.db.transaction(commit=True) as c:
                for table in stored:
                    c.execute(f"DROP TABLE IF EXISTS {self.registry.db.dialect.table(table)}")
        else:
            for file in stored:
                remove_sqlite_file({"SQLITE_DBNAME": str(Path(self.env["SQLITE_DBNAME"]).with_name(file))})

    def close(self) -> None:
        with self._lock:
            for live in self._live.values():
                live.view.close()
            self._live.clear()
        self.store.close()
