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

from api import get_system
from api.auth import principal
from api.schemas import Strict, in_calendar
from api.spec import ACCESS_LOGGED
from api.text import Text, header_text, unstorable
from domain.errors import RuleViolated
from service.access_log import PURPOSE_MAX, AccessLog, check_may_read

blp = Blueprint(
    "access_log", __name__, url_prefix="/api/v1", description="Who read which history or time-travel view, and why"
)
HEADER = "Accord-Purpose"
KEPT_PARAMS = ("as_at", "known_at", "from", "to", "since", "format")  # Which view of the past was read; never any text.
PARAM_MAX = 64
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
    `action_as_at`, `plan_status`, `plan_changes`, `plan_report`.
    """

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            given = purpose()  # Checked whether or not this call is recorded: the operation documents the header.
            if when is None or when():
                note_read(what, kwargs.get("action_id"), kwargs.get("plan_id"), given)
            return view(*args, **kwargs)

        wrapper.__doc__ = (view.__doc__ or "") + NOTE
        # Marks the operation in the OpenAPI document, where api.spec documents the Accord-Purpose header on it.
        return cast(F, Blueprint.doc(**{ACCESS_LOGGED: what})(wrapper))

    return decorate


def note_read(what: str, action_id: Any, plan_id: Any, given_purpose: str | None) -> None:
    """Have this request's read recorded once it has succeeded (the API's views and the pages both call this)."""
    g.access_read = {
        "what": what,
        "action_id": str(action_id) if action_id is not None else None,
        "plan_id": str(plan_id) if plan_id is not None else None,
        "purpose": given_purpose,
        "params": {k: request.args[k][:PARAM_MAX] for k in KEPT_PARAMS if k in request.args},
    }


def purpose() -> str | None:
    """The header as the caller wrote it (UTF-8 on the wire), within bounds and storable, or None."""
    text = header_text(HEADER)
    if len(text) > PURPOSE_MAX:
        raise RuleViolated(f"{HEADER} may be at most {PURPOSE_MAX} characters", field=HEADER)
    why = unstorable(text)
    if why:
        raise RuleViolated(f"{HEADER} {why}", field=HEADER)
    return text or None


def record_read(response: Response) -> Response:
    """After the view: record the read if it succeeded. A read that cannot be recorded fails (500), unshown."""
    read = g.pop("access_read", None)
    if read is not None and 200 <= response.status_code < 300:
        access_log().record(principal().as_actor(), **read)
    return response


def access_log() -> AccessLog:
    log: AccessLog = current_app.extensions[EXTENSION]
    return log


def init_app(app: Flask) -> None:
    app_ = get_system(app).app
    app.extensions[EXTENSION] = AccessLog(app_.factory, clock=app_.clock)
    app.after_request(record_read)


# Reading the log.


class AccessLogQuery(Strict):
    action_id = fields.UUID(load_default=None)
    user = Text(
        load_default=None, validate=validate.Length(min=1, max=200), metadata={"description": "a user's id or name"}
    )
    since = fields.DateTime(
        load_default=None,
        validate=in_calendar,
        metadata={"description": "reads at or after this instant (UTC when no offset is given)"},
    )
    limit = fields.Integer(load_default=1000, validate=validate.Range(min=1, max=1000))


class ReaderOut(Schema):
    id = fields.String()
    name = fields.String()
    agency = fields.String()
    role = fields.String()


class AccessOut(Schema):
    at = fields.String(metadata={"format": "date-time"})
    user = fields.Nested(ReaderOut)
    what = fields.String(metadata={"description": "history, action_as_at, plan_status, plan_changes or plan_report"})
    action_id = fields.UUID()
    plan_id = fields.UUID()
    purpose = fields.String(allow_none=True, metadata={"description": f"as given in the {HEADER} header"})
    params = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        metadata={"description": "as_at, known_at, from, to, since, format as given"},
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
        check_may_read(principal())
        since = query["since"]
        if since is not None and since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        action_id = str(query["action_id"]) if query["action_id"] else None
        items = access_log().entries(action_id=action_id, user=query["user"], since=since, limit=query["limit"])
        return {"items": items}
