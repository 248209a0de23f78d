"""Every error a client can cause becomes an RFC 9457 problem; domain errors map to statuses here only."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, json
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from domain.errors import ActionClosed, Conflict, DomainError, NotFound, NotPermitted, RuleViolated, StaleVersion

log = logging.getLogger(__name__)
PROBLEM = "application/problem+json"
STATUS_OF: dict[type[DomainError], int] = {
    NotFound: 404,
    NotPermitted: 403,
    RuleViolated: 422,
    ActionClosed: 409,
    Conflict: 409,
    StaleVersion: 412,
}
TYPE_BASE = "https://accord.example/problems/"


def problem(
    status: int,
    title: str,
    detail: str,
    errors: dict[str, list[str]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body: dict[str, Any] = {
        "type": TYPE_BASE + title.lower().replace(" ", "-"),
        "title": title,
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = errors
    return Response(json.dumps(body) + "\n", status=status, mimetype=PROBLEM, headers=headers)


def flatten(messages: Any) -> dict[str, list[str]]:
    """webargs nests messages by location ({"json": {"field": [...]}}); the contract wants field -> messages."""
    errors: dict[str, list[str]] = {}
    for location, fields in (messages or {}).items():
        if isinstance(fields, dict):
            for name, value in fields.items():
                errors.setdefault(str(name), []).extend(_strings(value))
        else:
            errors.setdefault(location, []).extend(_strings(fields))
    return errors


def _strings(value: Any) -> list[str]:
    if isinstance(value, list):
        return [m for v in value for m in _strings(v)]
    if isinstance(value, dict):
        return [f"{k}: {m}" for k, v in value.items() for m in _strings(v)]
    return [str(value)]


def problem_for_http_exception(error: HTTPException) -> Response:
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    errors = flatten(data["messages"]) if "messages" in data else None
    # Keep what the exception says besides its body: `Allow` on a 405 (RFC 9110 requires it), a challenge, ...
    headers = {name: value for name, value in error.get_headers() if name.lower() != "content-type"}
    headers.update(data.get("headers") or {})
    title = error.name
    detail = data.get("message") or error.description or title
    if status == 422:
        detail = "the request body or query failed validation"
    elif status == 400 and errors:
        detail = "; ".join(m for ms in errors.values() for m in ms)
        errors = None
    if status >= 500:
        detail = "the server could not complete the request"
    return problem(status, title, detail, errors, headers)


def problem_for_domain_error(error: DomainError) -> Response:
    status = next(code for cls, code in STATUS_OF.items() if isinstance(error, cls))
    errors = {error.field: [str(error)]} if status == 422 and error.field else None
    return problem(status, HTTP_STATUS_CODES[status], str(error), errors)


def unexpected(error: Exception) -> Response:
    log.exception("unhandled error", exc_info=error)
    return problem(500, "Internal Server Error", "the server could not complete the request")


def init_app(app: Flask) -> None:
    app.register_error_handler(DomainError, problem_for_domain_error)
    app.register_error_handler(HTTPException, problem_for_http_exception)
    app.register_error_handler(Exception, unexpected)
