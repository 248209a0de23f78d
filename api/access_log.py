"""The access log over HTTP: read views opt in with `@logged(what)`, and each successful read is recorded with
the caller's `Accord-Purpose`; coordinators and inspectors read the log at GET /api/v1/access-log."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC
from typing import Any, TypeVar, cast

from flask import Flask, Response, current_app, g, request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from api import get_system, succeeded
from api.auth import principal
from api.schemas import MAX_PAGE, Strict
from api.spec import ACCESS_LOGGED
from domain.errors import NotPermitted, RuleViolated
from domain.principals import COORDINATOR, INSPECTOR
from service.access_log import PURPOSE_MAX, AccessLog

blp = Blueprint(
    "access_log", __name__, url_prefix="/api/v1", description="Who read which history or time-travel view, and why"
)
HEADER = "Accord-Purpose"
READERS = (COORDINATOR, INSPECTOR)
KEPT_PARAMS = ("as_at", "known_at", "from", "to")  # Which view of the past was read; never any text.
PARAM_MAX = 64
USER_MAX = 200  # A user's id or name, as the `user` filter takes it.
EXTENSION = "accord.access_log"
NOTE = (
    "\n\nEach successful read is recorded in the access log: who, when, what, and the purpose given in the"
    f" optional `{HEADER}` header (at most {PURPOSE_MAX} characters)."
)
F = TypeVar("F", bound=Callable[..., Any])


def time_travelling() -> bool:
    """A read of the past: `as_at` or `known_at` given."""
    return bool(request.args.get("as_at") or request.args.get("known_at"))


def logged(what: str, when: Callable[[], bool] | None = None) -> Callable[[F], F]:
    """Record each successful (2xx) call of the decorated view as `what`, with the `action_id` and `plan_id` of its
    URL, its `as_at`/`known_at`/`from`/`to` and the caller's purpose; with `when`, only the calls it approves.

    Put it directly above the view method (below flask-smorest's decorators). Labels in use: `history`,
    `action_as_at`, `plan_status`, `plan_changes`.
    """

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            given = purpose()  # Checked whether or not this call is recorded: the operation documents the header.
            if when is None or when():
                g.access_read = {
                    "what": what,
                    "action_id": str(kwargs["action_id"]) if "action_id" in kwargs else None,
                    "plan_id": str(kwargs["plan_id"]) if "plan_id" in kwargs else None,
                    "purpose": given,
                    "params": {k: request.args[k][:PARAM_MAX] for k in KEPT_PARAMS if k in request.args},
                }
            return view(*args, **kwargs)

        wrapper.__doc__ = (view.__doc__ or "") + NOTE
        # Marks the operation in the OpenAPI document, where api.spec documents the Accord-Purpose header on it.
        return cast(F, Blueprint.doc(**{ACCESS_LOGGED: what})(wrapper))

    return decorate


def purpose() -> str | None:
    text = request.headers.get(HEADER, "").strip()
    if len(text) > PURPOSE_MAX:
        raise RuleViolated(f"{HEADER} may be at most {PURPOSE_MAX} characters", field=HEADER)
    return text or None


def record_read(response: Response) -> Response:
    """After the view: record the read if it succeeded. A read that cannot be recorded fails (500), unshown."""
    read = g.pop("access_read", None)
    if read is not None and succeeded(response):
        access_log().record(principal().as_actor(), **read)
    return response


def access_log() -> AccessLog:
    log: AccessLog = current_app.extensions[EXTENSION]
    return log


def init_app(app: Flask) -> None:
    app_ = get_system(app).app
    app.extensions[EXTENSION] = AccessLog(app_.factory, clock=app_.clock)


# Reading the log.


class AccessLogQuery(Strict):
    action_id = fields.UUID(load_default=None)
    user = fields.String(
        load_default=None,
        validate=validate.Length(min=1, max=USER_MAX),
        metadata={"description": "a user's id or name"},
    )
    since = fields.DateTime(
        load_default=None, metadata={"description": "reads at or after this instant (UTC when no offset is given)"}
    )
    limit = fields.Integer(load_default=MAX_PAGE, validate=validate.Range(min=1, max=MAX_PAGE))


class ReaderOut(Schema):
    id = fields.String()
    name = fields.String()
    agency = fields.String()
    role = fields.String()


class AccessOut(Schema):
    at = fields.String(metadata={"format": "date-time"})
    user = fields.Nested(ReaderOut)
    what = fields.String(metadata={"description": "history, action_as_at, plan_status or plan_changes"})
    action_id = fields.UUID()
    plan_id = fields.UUID()
    purpose = fields.String(allow_none=True, metadata={"description": f"as given in the {HEADER} header"})
    params = fields.Dict(
        keys=fields.String(), values=fields.String(), metadata={"description": "as_at, known_at, from, to as given"}
    )


class AccessLogOut(Schema):
    items = fields.List(fields.Nested(AccessOut))


@blp.route("/access-log")
class AccessLogView(MethodView):
    @blp.arguments(AccessLogQuery, location="query")
    @blp.response(200, AccessLogOut)
    @blp.alt_response(403, response="FORBIDDEN")
    def get(self, query: dict[str, Any]) -> Any:
        """Reads of histories and time-travel views, oldest first (coordinators and inspectors)."""
        if principal().role not in READERS:
            raise NotPermitted("only coordinators and inspectors may read the access log")
        since = query["since"]
        if since is not None and since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        action_id = str(query["action_id"]) if query["action_id"] else None
        items = access_log().entries(action_id=action_id, user=query["user"], since=since, limit=query["limit"])
        return {"items": items}
