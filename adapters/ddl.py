"""The one DDL lock: processes starting together (server, workers, CLI) create tables one at a time.

On PostgreSQL, CREATE TABLE IF NOT EXISTS races between processes, and DDL on tables in use can deadlock with
writers: every piece of start-up DDL runs under this session-level advisory lock. It is not re-entrant across
connections: never take it while this process already holds it on another connection.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg

LOCK_KEY = "accord-ddl"  # One key for all of Accord's DDL.


@contextmanager
def ddl_lock(connection: psycopg.Connection[Any]) -> Iterator[None]:
    """Hold the DDL lock on this (autocommit) connection for the block."""
    connection.execute("SELECT pg_advisory_lock(hashtext(%s))", (LOCK_KEY,))
    try:
        yield
    finally:
        connection.execute("SELECT pg_advisory_unlock(hashtext(%s))", (LOCK_KEY,))
