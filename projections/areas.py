"""Segments as rectangles (PostgreSQL): a segment of the temporal view covers an interval of known time and one
of valid time, so it is a rectangle in that plane, and a whole plan at one moment is the rectangles that hold one
point: one GiST search (projections/temporal.py). Each plan has a band of the valid-time axis of its own.

The coordinates are computed by the database from the segment's own text with immutable SQL, so that a
generated column can hold them and the rows written stay as they are on SQLite.
"""

from __future__ import annotations


def _days(text: str) -> str:
    """SQL: an ISO day ('YYYY-MM-DD...') as days since 2000-01-01 (immutable, so it can be indexed)."""
    day = f"make_date(substr({text}, 1, 4)::int, substr({text}, 6, 2)::int, substr({text}, 9, 2)::int)"
    return f"({day} - DATE '2000-01-01')"


def _seconds(text: str) -> str:
    """SQL: an instant as `instant` writes it ('YYYY-MM-DDTHH:MM:SS.ffffff+00:00') as seconds since 2000, in
    float8: never smaller for a later instant (all a search needs), and distinct to the microsecond until 2272."""
    return (
        f"({_days(text)} * 86400.0::float8 + substr({text}, 12, 2)::int * 3600 + substr({text}, 15, 2)::int * 60"
        f" + substr({text}, 18, 9)::float8)"
    )


def _band(plan_id: str) -> str:
    """SQL: a plan's own band of the valid-time axis, from its id's first 28 bits: the days of one plan's rows
    never meet another's (two plans sharing a band are told apart by `plan_id`)."""
    return f"(('x' || substr({plan_id}, 1, 7))::bit(28)::int * 10000000.0::float8)"


# PostgreSQL: each segment is a rectangle of (known time, the plan's band + valid time), kept in a GiST index
# (`segments_valid`), so the whole plan at (as_at, known_at) is one index search for the rectangles that hold
# one point, where a probe per action took six times as long. The rectangles are closed and the
# coordinates floats: the exact bounds on the text columns decide what is on an edge.
AREA = (
    f"box(point({_seconds('known_from')}, {_band('plan_id')} + {_days('valid_from')}),"
    f" point({_seconds('known_to')}, {_band('plan_id')} + {_days('valid_to')}))"
)
# The moment (known_at = {k}, as_at = {d}) of plan {id}, as a point of the same plane.
MOMENT = f"point({_seconds('{k}')}, {_band('{id}')} + {_days('{d}')})"
