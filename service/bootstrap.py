"""The one place that builds Accord from settings: application, projections, and how they are run."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg

from adapters.ddl import ddl_lock
from adapters.recorders import STORE_CHAIN
from projections.operations import Projections
from projections.registry import VIEWS
from projections.shares import usable_cpus
from projections.view import SqlView
from service.app import Accord
from service.settings import Settings, postgres_env

log = logging.getLogger(__name__)


@dataclass
class System:
    settings: Settings
    app: Accord
    projections: Projections

    @property
    def current(self) -> Any:
        return self.projections.view("current_status")

    def close(self) -> None:
        self.app.close()
        self.projections.close()


@contextmanager
def store_lock(settings: Settings) -> Iterator[bool]:
    """Serialise processes starting together, and say whether the event store's tables exist.

    On PostgreSQL, CREATE TABLE IF NOT EXISTS races between processes, and DDL on tables in use can
    deadlock with writers: so the first process creates the tables under a lock, the others skip it.
    """
    if not settings.is_postgres:
        yield False  # SQLite serialises writers itself; its DDL is cheap and safe to repeat.
        return
    env = postgres_env(settings.database_url)
    schema = env.get("POSTGRES_SCHEMA", "public")
    with (
        psycopg.connect(
            host=env["POSTGRES_HOST"],
            port=env["POSTGRES_PORT"],
            user=env["POSTGRES_USER"],
            password=env["POSTGRES_PASSWORD"],
            dbname=env["POSTGRES_DBNAME"],
            autocommit=True,
            connect_timeout=int(env["POSTGRES_CONNECT_TIMEOUT"]),
        ) as conn,
        ddl_lock(conn),
    ):
        row = conn.execute(  # The chain table, and the aggregate a release added beside it.
            "SELECT to_regclass(%s) IS NOT NULL AND to_regprocedure(%s) IS NOT NULL",
            (f'"{schema}".{Accord.name.lower()}_events_chain', f'"{schema}".{STORE_CHAIN}(text)'),
        )
        yield bool(row.fetchone()[0])  # type: ignore[index]


def bootstrap(
    settings: Settings | None = None,
    clock: Callable[[], datetime] | None = None,
    *,
    in_process: bool | None = None,
    views: Mapping[str, type[SqlView]] = VIEWS,
) -> System:
    """Build everything; connect nothing until called (never at import time, never before a fork).

    Projections run in this process unless Redis is configured, in which case saves nudge the
    `accord worker` processes instead. `in_process=False` builds without running them at all.
    """
    settings = settings or Settings.from_env()
    with store_lock(settings) as exists:
        app = Accord(
            {**settings.eventsourcing_env(), "CREATE_TABLE": "no" if exists else "yes"},
            agencies=settings.agencies,
            timezone=settings.timezone,
            clock=clock or (lambda: datetime.now(UTC)),
            token_seconds=settings.token_seconds,
        )
    projections = Projections(
        app, settings.eventsourcing_env("views"), views, processes=settings.build_processes or usable_cpus()
    )
    if settings.redis_url:
        from adapters.queue import nudge, projection_queue

        queue = projection_queue(settings.redis_url, settings.queue)
        app.after_save = lambda position: nudge(queue, projections.names)
    elif in_process is not False:

        def catch_up_in_process(position: int) -> None:
            """Each save catches the projections up before the response, so clients read their own writes.

            The event is stored whatever happens here: a projection that cannot apply it stops itself
            (visible in status, /metrics and /readyz), and a database that does not answer now is tried
            again on the next save; neither turns the committed write into an error.
            """
            try:
                projections.catch_up_all()
            except Exception as error:
                log.warning("projections not caught up after a save: %s", type(error).__name__)

        app.after_save = catch_up_in_process
        projections.catch_up_all()
    return System(settings=settings, app=app, projections=projections)
