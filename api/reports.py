"""The committee report: a plan's position as at a date, as known at an instant, in five formats, with proof."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import validate

from api import get_system
from api.access_log import logged
from api.auth import principal
from api.schemas import STRICT_QUERY
from api.text import Text
from api.timetravel import AsAtQuery, day_field, moments
from reports import FORMATS, filename, render
from service.reports import committee_report

blp = Blueprint("reports", __name__, url_prefix="/api/v1", description="Committee reports")
HEAD_HEADER = "Accord-Audit-Head"
BINARY = {"type": "string", "format": "binary"}


class ReportQuery(AsAtQuery):
    since = day_field(
        "mark each action changed since this day (the last report's date), and say what", load_default=None
    )
    format = Text(
        load_default="html",
        validate=validate.OneOf(list(FORMATS)),
        metadata={"description": "html (default), pdf (A4 landscape), docx (the councils' tables), xlsx, csv"},
    )


RESPONSES = {
    "200": {
        "description": "The report in the format asked for (HTML by default). Each format states, on every page or"
        " sheet, the as at and known at, who generated it when, and the audit head its data came from, which"
        f" `accord audit verify --expect` checks; the `{HEAD_HEADER}` header carries the same head.",
        "content": {fmt.media_type.split(";")[0]: {"schema": BINARY} for fmt in FORMATS.values()},
        "headers": {
            "Content-Disposition": {
                "description": 'attachment; filename="<plan-slug>-as-at-<DATE>.<ext>" (all but html)',
                "schema": {"type": "string"},
            },
            HEAD_HEADER: {"description": "POSITION:DIGEST", "schema": {"type": "string"}},
        },
    }
}


@blp.route("/plans/<uuid:plan_id>/report")
class PlanReport(MethodView):
    @blp.arguments(ReportQuery, **STRICT_QUERY)
    @blp.doc(responses=RESPONSES)
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    @logged("plan_report")
    def get(self, query: dict[str, Any], plan_id: UUID) -> Any:
        """The committee report: summary, recommendations, each action as it stood, what changed since `since`."""
        as_at, known_at = moments(query)
        report = committee_report(
            get_system(), str(plan_id), as_at=as_at, known_at=known_at, since=query["since"], reader=principal()
        )
        fmt = query["format"]
        headers = {HEAD_HEADER: report.proof.head}
        if fmt != "html":
            headers["Content-Disposition"] = f'attachment; filename="{filename(report, fmt)}"'
        return Response(render(report, fmt), mimetype=FORMATS[fmt].media_type, headers=headers)
