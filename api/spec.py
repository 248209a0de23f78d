"""The flask-smorest Api: OpenAPI document at /api/v1/openapi.json, errors as RFC 9457 problems.

Every status an operation can answer is documented on it, each error as `application/problem+json` with the
Problem schema; there is no catch-all `default` response, so a client (and the schemathesis run in the test suite)
can tell a documented refusal from a surprise.
"""

from __future__ import annotations

from copy import deepcopy
from http import HTTPStatus
from typing import Any

from apispec import BasePlugin
from flask import Flask
from flask_smorest import Api

from api.errors import PROBLEM, problem_for_http_exception
from api.schemas import ProblemSchema
from service.access_log import PURPOSE_MAX

# What any /api/v1 operation may answer: a bad header (Accord-Min-Position, Idempotency-Key) or malformed JSON,
# a missing or unknown token, the per-token rate limit.
# Under `accord serve` (gunicorn), a request line over 8190 bytes is 414 and a header over 16 KB is 431: a long
# query (an import's `source` may be 20,000 characters) reaches no view.
EVERY_OPERATION = (
    HTTPStatus.BAD_REQUEST,
    HTTPStatus.UNAUTHORIZED,
    HTTPStatus.TOO_MANY_REQUESTS,
    HTTPStatus.REQUEST_URI_TOO_LONG,
    HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE,
)
# What any write may answer besides: a role that never writes, an Idempotency-Key still in use or a racing save,
# a body over ACCORD_MAX_BODY_BYTES, a body that is not JSON.
EVERY_WRITE = (
    HTTPStatus.FORBIDDEN,
    HTTPStatus.CONFLICT,
    HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
    HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
)
# Set on a view by `api.access_log.logged` (and kept in the document): a read recorded in the access log, as what.
ACCESS_LOGGED = "x-accord-access-log"


def header(name: str, description: str, **schema: Any) -> dict[str, Any]:
    """An optional header parameter, a string."""
    return {"in": "header", "name": name, "description": description, "schema": {"type": "string", **schema}}


IDEMPOTENCY_KEY = header(
    "Idempotency-Key",
    "A retry with the same key and body gets the first response again (`Idempotent-Replayed: true`) and writes"
    " nothing; the same key with another request is 422. Keys belong to the caller and expire.",
    minLength=1,
    maxLength=255,
    pattern="^[!-~]+$",
)
MIN_POSITION = header(
    "Accord-Min-Position",
    "A `position` from a write's response: wait, briefly, until every read model has applied it"
    " (`Accord-Caught-Up` says whether they had).",
    pattern="^[0-9]{1,18}$",
)
PURPOSE = header(
    "Accord-Purpose", "Why the caller reads this: kept with the read in the access log.", maxLength=PURPOSE_MAX
)


class Conventions(BasePlugin):
    """Documents, on each operation, what every operation (or every write, every read, every operation with an id or
    slug in its path, every read kept in the access log) takes and may answer. Views document their own others
    with `@blp.alt_response` and `@blp.doc`."""

    def init_spec(self, spec: Any) -> None:
        super().init_spec(spec)
        self.spec = spec
        self.paths: dict[str, dict[str, Any]] = {}  # Each path's operations so far (the spec's own objects).

    def operation_helper(self, path: str | None = None, operations: dict[str, Any] | None = None, **_: Any) -> None:
        if path:
            self.shadow(path, operations or {})
        for method, operation in (operations or {}).items():
            statuses = list(EVERY_OPERATION)
            parameters = operation.setdefault("parameters", [])
            if path and "{" in path:
                statuses.append(HTTPStatus.NOT_FOUND)
            if method == "get":
                parameters.append(deepcopy(MIN_POSITION))
            else:
                statuses.extend(EVERY_WRITE)
                parameters.append(deepcopy(IDEMPOTENCY_KEY))
            if ACCESS_LOGGED in operation:
                statuses.append(HTTPStatus.UNPROCESSABLE_ENTITY)  # An Accord-Purpose over its length.
                parameters.append(deepcopy(PURPOSE))
            responses = operation.setdefault("responses", {})
            documented = {str(code) for code in responses}
            for status in statuses:
                if str(status.value) not in documented:
                    responses[status.value] = status.name

    def shadow(self, path: str, operations: dict[str, Any]) -> None:
        """A URL that fits a path with a parameter but is another path's own (`/plans/import` fits `/plans/{plan_id}`)
        answers a method only the parameter's path takes with 405 and `Allow` (werkzeug routes the URL to its own
        path): documented on that operation, whichever of the two paths is registered first."""
        self.paths.setdefault(path, {}).update(operations)
        for other in self.paths:
            for templated, literal in ((path, other), (other, path)):
                if shadows(literal, templated):
                    for method, operation in self.paths[templated].items():
                        if method not in self.paths[literal]:
                            responses = operation.setdefault("responses", {})
                            responses["405"] = self.spec.components.get_ref("response", "METHOD_NOT_ALLOWED")


def shadows(literal: str, templated: str) -> bool:
    """Whether path `literal` is one URL that path `templated` also fits: the same but where `templated` has a
    parameter (`{...}`) and `literal` a fixed segment."""
    ours, theirs = literal.split("/"), templated.split("/")
    if literal == templated or len(ours) != len(theirs):
        return False
    return all(a == b or (b.startswith("{") and not a.startswith("{")) for a, b in zip(ours, theirs, strict=True))


class AccordApi(Api):
    ERROR_SCHEMA = ProblemSchema
    DEFAULT_ERROR_RESPONSE_NAME = None  # No catch-all: each status is documented where it can happen.

    def handle_http_exception(self, error: Any) -> Any:
        return problem_for_http_exception(error)


def problem_responses(api: Api) -> None:
    """flask-smorest documents its error responses (the 422 of `@blp.arguments`, `alt_response(404,
    response="NOT_FOUND")`) as application/json; ours are application/problem+json. Replaces them, before any
    is referenced, by the same named responses in the media type the API sends."""
    for status in HTTPStatus:
        if status >= HTTPStatus.BAD_REQUEST:
            api.spec.components.response(
                status.name,
                {"description": status.phrase, "content": {PROBLEM: {"schema": ProblemSchema}}},
                lazy=True,
            )


def make_api(app: Flask) -> AccordApi:
    app.config.update(
        API_TITLE="Accord",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
        API_SPEC_OPTIONS={
            "info": {
                "description": "Multi-agency safeguarding action plans: every update an immutable event.",
            },
            "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
            "security": [{"bearer": []}],
        },
    )
    api = AccordApi(app, spec_kwargs={"extra_plugins": [Conventions()]})
    problem_responses(api)
    return api
