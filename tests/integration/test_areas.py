"""A segment's rectangle as Accord writes it (`area`) is the very rectangle PostgreSQL computes from the same text
(`AREA`, the SQL the time-travel search computes its point with): a bit off, and a whole plan's time travel would
miss an action whose segment starts or ends at the instant asked about."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import psycopg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.sql import instant
from projections.areas import AREA, area
from projections.segments import FOREVER, OPEN

pytestmark = pytest.mark.postgres

instants = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2285, 12, 31), timezones=st.just(UTC))
days = st.dates(min_value=date(2000, 1, 1), max_value=date(9999, 12, 31)).map(date.isoformat)
plan_ids = st.uuids().map(str)


@pytest.fixture(scope="module")
def connection(postgres_database: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(postgres_database, autocommit=True) as conn:
        yield conn


@settings(max_examples=300, deadline=None)
@given(
    plan_id=plan_ids,
    known=st.tuples(instants, instants | st.just(None)),
    valid=st.tuples(days, days | st.just(FOREVER)),
)
def test_a_rectangle_written_is_the_one_the_database_computes(
    connection: psycopg.Connection, plan_id: str, known: tuple[datetime, datetime | None], valid: tuple[str, str]
) -> None:
    known_from, known_to = sorted(known, key=lambda k: k or datetime.max.replace(tzinfo=UTC))
    row = {
        "plan_id": plan_id,
        "known_from": instant(known_from),  # type: ignore[arg-type]
        "known_to": instant(known_to) if known_to else OPEN,
        "valid_from": min(valid),
        "valid_to": max(valid),
    }
    computed, written = connection.execute(
        f"SELECT ({AREA})::text, %(area)s::box::text FROM (SELECT %(plan_id)s AS plan_id,"
        " %(known_from)s AS known_from, %(known_to)s AS known_to, %(valid_from)s AS valid_from,"
        " %(valid_to)s AS valid_to) AS segment",
        {**row, "area": area(row["plan_id"], row["known_from"], row["valid_from"], row["known_to"], row["valid_to"])},
    ).fetchone()
    assert written == computed  # A float's text here is the shortest that reads back as the same float.
