"""A PostgreSQL event store made by an earlier release: the next process to start brings it up to date."""

from __future__ import annotations

from uuid import uuid4

import pytest

from adapters.audit import verify_chain
from adapters.recorders import STORE_CHAIN, STORE_HASH
from service.bootstrap import bootstrap
from service.settings import Settings
from tests.builders import fresh_schema
from tests.integration.test_recorders import stored

pytestmark = pytest.mark.postgres


def test_a_store_made_before_the_chain_aggregate_gets_it_when_a_process_starts(postgres_database: str) -> None:
    """A deployment's store whose chain table predates the server-side function and aggregate that chain a batch:
    the next process to start creates them, and writes go on extending the same chain."""
    with fresh_schema(postgres_database) as database_url:
        check_upgrade(Settings(database_url=database_url, load_demo=False))


def check_upgrade(settings: Settings) -> None:
    system = bootstrap(settings, in_process=False)
    recorder = system.app.recorder
    recorder.insert_events([stored(uuid4(), 1)])
    schema = recorder.datastore.schema  # type: ignore[attr-defined]
    with recorder.datastore.transaction(commit=True) as c:  # type: ignore[attr-defined]
        c.execute(f'DROP AGGREGATE "{schema}".{STORE_CHAIN}(text)')
        c.execute(f'DROP FUNCTION "{schema}".{STORE_HASH}(text, text)')
    system.close()
    system = bootstrap(settings, in_process=False)
    try:
        assert system.app.recorder.insert_events([stored(uuid4(), 1), stored(uuid4(), 1)]) is not None
        assert verify_chain(system.app.recorder) is None
    finally:
        system.close()
