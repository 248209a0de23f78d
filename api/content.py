"""JSON in: every /api/v1 write takes a JSON body, so a POST without one (no body, or another media type) is refused
with 415 rather than read as an empty object, which an update's optional fields would let through to the rules."""

from __future__ import annotations

from flask import Flask, Response, request
from webargs.core import is_json

from api.errors import problem

API = "/api/v1/"
FILE_UPLOADS = frozenset({"imports.PlanImport"})  # Writes whose body is a file (api/imports.py checks its type).


def require_json() -> Response | None:
    if request.method != "POST" or not request.path.startswith(API) or is_json(request.mimetype):
        return None
    if request.endpoint in FILE_UPLOADS:
        return None
    if request.routing_exception is not None:  # No such resource (404), or it takes no POST (405): say that.
        return None
    return problem(
        415,
        "Unsupported Media Type",
        "send the body as JSON, with Content-Type: application/json",
        headers={"Accept-Post": "application/json"},
    )


def init_app(app: Flask) -> None:
    """Register after authentication: a caller without a token learns only that it needs one."""
    app.before_request(require_json)
