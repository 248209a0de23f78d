"""Tamper evidence over HTTP: the current head of the stored events' hash chain, to keep with a printed report."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from adapters.audit import head
from api import get_system
from api.auth import principal
from domain.errors import NotPermitted
from domain.principals import COORDINATOR, INSPECTOR

blp = Blueprint("audit", __name__, url_prefix="/api/v1/audit", description="Tamper evidence")
AUDITORS = (COORDINATOR, INSPECTOR)


class HeadOut(Schema):
    position = fields.Integer(
        required=True, metadata={"description": "the store position (notification id) the digest covers, 0 if empty"}
    )
    digest = fields.String(
        required=True,
        validate=validate.Regexp(r"^[0-9a-f]{64}$"),
        metadata={"description": "the hash chain's store hash at that position, as hex; 64 zeros for an empty store"},
    )
    algorithm = fields.String(required=True, metadata={"example": "sha256"})


@blp.route("/head")
class AuditHead(MethodView):
    @blp.response(200, HeadOut)
    @blp.alt_response(403, response="FORBIDDEN")
    def get(self) -> Any:
        """The current head digest: check it later with `accord audit verify --expect POSITION:DIGEST`."""
        if principal().role not in AUDITORS:
            raise NotPermitted("only coordinators and inspectors may read the audit head")
        return head(get_system().app.recorder)
