"""Bearer tokens: every /api/v1 request (the edge's first hook) needs one; read-only roles never write."""

from __future__ import annotations

from flask import Response, g, request

from api.errors import problem
from domain.principals import INSPECTOR, READER, Principal

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="accord"'}


def authenticate() -> Response | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return problem(401, "Unauthorized", "send Authorization: Bearer <token>", headers=CHALLENGE)
    from api import get_system

    principal = get_system().app.authenticate(token.strip())
    if principal is None:
        return problem(401, "Unauthorized", "the token is unknown or revoked", headers=CHALLENGE)
    if principal.role in (INSPECTOR, READER) and request.method not in READ_METHODS:
        return problem(403, "Forbidden", f"the {principal.role} role reads but never writes")
    g.principal = principal
    return None


def principal() -> Principal:
    return g.principal
