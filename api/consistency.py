"""Read your own writes: a read may send `Accord-Min-Position: <position from a write>` to wait, briefly,
until every projection has applied that write. The response says how far they had got."""

from __future__ import annotations

from flask import Response, g, request

from api.errors import problem

HEADER = "Accord-Min-Position"
MAX_DIGITS = 18  # Any position fits a signed 64-bit integer.


def wait_for_position() -> Response | None:
    value = request.headers.get(HEADER)
    if value is None or request.method != "GET":
        return None
    if not value.isdigit() or len(value) > MAX_DIGITS:
        return problem(400, "Bad Request", f"{HEADER} must be a position from a write's response")
    from api import get_system

    system = get_system()
    g.caught_up = system.projections.wait(int(value), timeout=system.settings.wait_seconds)
    return None


def say_whether_caught_up(response: Response) -> Response:
    if "caught_up" in g:
        response.headers["Accord-Caught-Up"] = "true" if g.caught_up else "false"
    return response
