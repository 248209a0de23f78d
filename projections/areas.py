"""Segments as rectangles (PostgreSQL): a segment of the temporal view covers an interval of known time and one
of valid time, so it is a rectangle in that plane, and a whole plan at one moment is the rectangles that hold one
point: one GiST search (projections/temporal.py). Each plan has a band of the valid-time axis of its own.

Every coordinate is a whole number below 2**53, so a float holds it exactly, however it was computed: a
segment's rectangle is computed here as it is written (`area`), from the segment's own text, and the moment a
search looks for by the database from the query's (`MOMENT`), and the two agree to the last bit
(tests/integration/test_areas.py compares `area` with the same SQL, `AREA`). The database once computed the rectangles
in a generated column: over two microseconds a row of the server's time, a sixth of a temporal rebuild's.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache

EPOCH = date(2000, 1, 1)
BAND = 10_000_000  # Days in a plan's band: far more than 2000-01-01 to 9999-12-31 (`OPEN`, `FOREVER`).


def _days(text: str) -> str:
    """SQL: an ISO day ('YYYY-MM-DD...') as days since 2000-01-01 (immutable, so it can be indexed)."""
    day = f"make_date(substr({text}, 1, 4)::int, substr({text}, 6, 2)::int, substr({text}, 9, 2)::int)"
    return f"({day} - DATE '2000-01-01')"


def _micros(text: str) -> str:
    """SQL: an instant as `instant` writes it ('YYYY-MM-DDTHH:MM:SS.ffffff+00:00') as microseconds since 2000
    (below 2**53 until the year 2285; `OPEN` is in 9999, about 2**58, where a float's neighbours are 64
    microseconds apart: no instant an update is recorded at comes near it)."""
    return (
        f"((({_days(text)}::bigint * 86400 + substr({text}, 12, 2)::int * 3600 + substr({text}, 15, 2)::int * 60"
        f" + substr({text}, 18, 2)::int) * 1000000 + substr({text}, 21, 6)::int)::float8)"
    )


def _band(plan_id: str) -> str:
    """SQL: a plan's own band of the valid-time axis, from its id's first 28 bits: the days of one plan's rows
    never meet another's (two plans sharing a band are told apart by `plan_id`)."""
    return f"(('x' || substr({plan_id}, 1, 7))::bit(28)::int::bigint * {BAND})"


def _valid(plan_id: str, day: str) -> str:
    return f"(({_band(plan_id)} + {_days(day)})::float8)"


# PostgreSQL: each segment is a rectangle of (known time, the plan's band + valid time), kept in a GiST index
# (`segments_valid`), so the whole plan at (as_at, known_at) is one index search for the rectangles that hold
# one point, where a probe per action took six times as long. The rectangles are closed: the exact bounds on the
# text columns decide what is on an edge.
AREA = (
    f"box(point({_micros('known_from')}, {_valid('plan_id', 'valid_from')}),"
    f" point({_micros('known_to')}, {_valid('plan_id', 'valid_to')}))"
)
# The moment (known_at = {k}, as_at = {d}) of plan {id}, as a point of the same plane.
MOMENT = f"point({_micros('{k}')}, {_valid('{id}', '{d}')})"


def area(plan_id: str, known_from: str, valid_from: str, known_to: str, valid_to: str) -> str:
    """A segment's rectangle as `AREA` computes it, as PostgreSQL's text for a box."""
    band = band_of(plan_id)
    return f"({micros_of(known_from)},{band + days_of(valid_from)}),({micros_of(known_to)},{band + days_of(valid_to)})"


def day_number(text: str) -> int:
    """As `_days`: an ISO day (or the day of an instant) as days since 2000-01-01."""
    return (date(int(text[0:4]), int(text[5:7]), int(text[8:10])) - EPOCH).days


days_of = lru_cache(maxsize=1024)(day_number)  # A plan's rows start and end on a few hundred days.


@lru_cache(maxsize=4096)  # An update's instant is the start of two rows and the end of another, written together.
def micros_of(instant: str) -> int:
    """As `_micros`."""
    seconds = day_number(instant) * 86400 + int(instant[11:13]) * 3600 + int(instant[14:16]) * 60 + int(instant[17:19])
    return seconds * 1_000_000 + int(instant[20:26])


@lru_cache(maxsize=256)
def band_of(plan_id: str) -> int:
    """As `_band`: the start of a plan's band, from its id's first 28 bits."""
    return int(plan_id[:7], 16) * BAND
