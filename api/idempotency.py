"""`Idempotency-Key` on every POST (IETF draft, as Stripe practises it): a retry with the same key and body gets the
first response again (marked `Idempotent-Replayed: true`) and writes nothing; the same key on another request is
422; keys belong to the caller and live ACCORD_IDEMPOTENCY_HOURS (default 24).

Views marked `@idempotent(derives_id=True)` pass `new_id()` to the service as the id of what they create, so a
retry whose first attempt was saved but never answered (a crash, a lost connection) finds that save and answers
from it. For the other POSTs such a retry gets 409 until the key expires: nothing is ever written twice.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from typing import Any, TypeVar
from uuid import UUID

from flask import Flask, Response, current_app, g, request

from api import get_system, refused, succeeded
from api.auth import principal
from api.errors import problem
from domain.errors import Conflict
from service.idempotency import Claim, IdempotencyKeys, fingerprint

HEADER = "Idempotency-Key"
KEY = re.compile(r"^[\x21-\x7e]{1,255}$")  # Visible ASCII, as a structured-field string holds.
EXTENSION = "accord.idempotency"
REPLAYED_HEADERS = ("Location", "Content-Type")
DERIVES_ID = "accord_derives_id"  # Set on a view method by @idempotent(derives_id=True).
F = TypeVar("F", bound=Callable[..., Any])


def idempotent(*, derives_id: bool) -> Callable[[F], F]:
    """Mark a POST view: with `derives_id`, it passes `new_id()` to the service as the id of what it creates, so a
    retry after a lost response is answered from the first save rather than refused. Put it below flask-smorest's
    decorators (their wrappers keep the mark)."""

    def mark(view: F) -> F:
        setattr(view, DERIVES_ID, derives_id)
        return view

    return mark


def view_derives_id() -> bool:
    """Whether the view this request goes to is marked `@idempotent(derives_id=True)`."""
    view = current_app.view_functions.get(request.endpoint or "")
    method = getattr(getattr(view, "view_class", None), request.method.lower(), view)
    return bool(getattr(method, DERIVES_ID, False))


def claim_key() -> Response | None:
    """Before a keyed POST: replay the first response, refuse a reused key, or claim the key for this request."""
    key = request.headers.get(HEADER)
    if key is None or request.method != "POST" or "principal" not in g:
        return None
    if not KEY.match(key):
        return problem(400, "Bad Request", f"{HEADER} must be 1 to 255 visible ASCII characters, e.g. a UUID")
    claim = keys().claim(principal().user_id, key, fingerprint(request.method, request.full_path, fingerprinted()))
    if claim.response is not None:
        return replay(claim.response)
    if not claim.mine and not view_derives_id():
        raise Conflict(f"a request with this {HEADER} is in progress or ended without a response; check, then retry")
    g.idempotency_claim = claim
    return None


def fingerprinted() -> bytes:
    """The body as a retry must repeat it. A multipart body (the plan import) by its fields and files' names and
    contents: a client draws a new boundary for every attempt, so its bytes never repeat."""
    if request.mimetype != "multipart/form-data":
        return request.get_data()
    files = []
    for name, upload in request.files.items(multi=True):
        files.append([name, upload.filename or "", hashlib.sha256(upload.stream.read()).hexdigest()])
        upload.stream.seek(0)  # The view reads it again.
    fields = [list(pair) for pair in request.form.items(multi=True)]
    return json.dumps([sorted(fields, key=repr), sorted(files, key=repr)]).encode()  # repr: a part may lack a name.


def new_id() -> UUID | None:
    """The id for what this write creates: derived from the caller's key (same for every retry), else None."""
    claim: Claim | None = g.get("idempotency_claim")
    return claim.new_id if claim else None


def keep_response(response: Response) -> Response:
    """After a keyed POST: keep a success for replay; free the key of a refusal (nothing was written).

    After a server error the claim stays: the write may have been saved, and only a retry can tell.
    """
    claim: Claim | None = g.pop("idempotency_claim", None)
    if claim is None:
        return response
    if succeeded(response):
        headers = {name: response.headers[name] for name in REPLAYED_HEADERS if name in response.headers}
        keys().complete(
            claim, {"status": response.status_code, "headers": headers, "body": response.get_data(as_text=True)}
        )
    elif refused(response) and claim.mine:
        keys().release(claim)
    return response


def replay(first: dict[str, object]) -> Response:
    headers = {**first["headers"], "Idempotent-Replayed": "true"}  # type: ignore[dict-item]
    return Response(first["body"], status=first["status"], headers=headers)  # type: ignore[arg-type]


def keys() -> IdempotencyKeys:
    store: IdempotencyKeys = current_app.extensions[EXTENSION]
    return store


def init_app(app: Flask) -> None:
    system = get_system(app)
    app.extensions[EXTENSION] = IdempotencyKeys(
        system.app.factory, hours=system.settings.idempotency_hours, clock=system.app.clock
    )
