"""Plan import: a council's plan file (xlsx, csv or docx) in, checked whole, written whole or not at all; and the
blank template.

The file is the request body (by its Content-Type) or the multipart field `file`; options come as query
parameters or, with multipart, as form fields. This is the one /api/v1 write whose body is not JSON, and the one
allowed more than ACCORD_MAX_BODY_BYTES: up to ACCORD_IMPORT_MAX_BYTES (10 MB), set per request by `init_app`.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Flask, Response, request, url_for
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from marshmallow import Schema, ValidationError, fields, validate

from api import get_system
from api.auth import principal
from api.errors import PROBLEM, TYPE_BASE, problem
from api.schemas import LONG, SHORT, SLUG, STRICT_QUERY, Strict
from api.text import Text
from service.importing import ImportOptions, ImportResult
from service.importing.files import MACRO_MEDIA_TYPES, MEDIA_TYPES
from service.importing.template import template_csv, template_xlsx

blp = Blueprint("imports", __name__, url_prefix="/api/v1/plans/import", description="Plan import and its template")
ENDPOINT = "imports.PlanImport"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ACCEPTED = (*MEDIA_TYPES, *MACRO_MEDIA_TYPES, "application/octet-stream", "multipart/form-data", "text/plain")
BINARY = {"schema": {"type": "string", "format": "binary"}}
OPTIONS_DOC = "Options as query parameters (or, with multipart/form-data, as form fields beside `file`)."


class JsonObject(fields.Field):
    """A JSON object sent as text (a query parameter or a form field)."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        try:
            found = json.loads(value) if isinstance(value, str) else value
        except ValueError:
            raise ValidationError("must be a JSON object") from None
        if not isinstance(found, dict) or not all(isinstance(v, str | None) for v in found.values()):
            raise ValidationError("must be a JSON object whose values are strings or null")
        return found


class ImportQuery(Strict):
    dry_run = fields.Boolean(load_default=False, metadata={"description": "check and show, write nothing"})
    mapping = JsonObject(
        load_default=None, metadata={"description": "JSON object: column heading to field name, or null to ignore"}
    )
    lead_agency_by_person = JsonObject(
        load_default=None, metadata={"description": "JSON object: a lead person as written to an agency slug"}
    )
    default_lead_agency = Text(load_default=None, validate=SLUG)
    title = Text(load_default=None, validate=SHORT)
    source = Text(load_default=None, validate=LONG)
    owner_agency = Text(load_default=None, validate=SLUG)
    start_date = fields.Date(
        load_default=None, metadata={"description": "when the actions are raised; default the file's earliest date"}
    )


class ImportErrorOut(Schema):
    row = fields.Integer(allow_none=True, metadata={"description": "the row as the file numbers it"})
    column = fields.String(allow_none=True, metadata={"description": "the column's heading in the file"})
    message = fields.String()
    table = fields.String(metadata={"description": "which sheet or Word table"})


class PreviewUpdateOut(Schema):
    text = fields.String()
    effective_date = fields.String(metadata={"format": "date"})


class PreviewOut(Schema):
    row = fields.Integer()
    recommendation = fields.String()
    number = fields.String()
    description = fields.String()
    due_label = fields.String(allow_none=True)
    due_date = fields.String(allow_none=True, metadata={"format": "date"})
    lead_agency = fields.String()
    lead_person = fields.String(allow_none=True)
    status = fields.String()
    rag = fields.String(allow_none=True)
    update = fields.Nested(PreviewUpdateOut, allow_none=True)


class ImportOut(Schema):
    plan_id = fields.UUID(metadata={"description": "the new plan (not on a dry run)"})
    mapping = fields.Dict(keys=fields.String(), values=fields.String(allow_none=True))
    recommendations = fields.Integer()
    actions = fields.Integer()
    updates = fields.Integer()
    errors = fields.List(fields.Nested(ImportErrorOut))
    warnings = fields.List(fields.String())
    preview = fields.List(fields.Nested(PreviewOut), metadata={"description": "the first actions as they'd be stored"})


FILE_ERRORS = {
    "type": "array",
    "description": "the file's errors, each by row and column (null when about the whole file or an option)",
    "items": {
        "type": "object",
        "properties": {
            "row": {"type": "integer", "nullable": True},
            "column": {"type": "string", "nullable": True},
            "message": {"type": "string"},
            "table": {"type": "string"},
        },
    },
}
PARAMETER_ERRORS = {
    "type": "object",
    "description": "a query parameter or form field that failed validation: its messages",
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
}


class ImportProblemOut(ImportOut):
    """RFC 9457 with the import's findings as extension members: every error by row and column."""

    errors = fields.Raw(metadata={"oneOf": [FILE_ERRORS, PARAMETER_ERRORS]})
    type = fields.String(required=True, metadata={"format": "uri"})
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)


class TemplateQuery(Strict):
    format = Text(load_default="xlsx", validate=validate.OneOf(("xlsx", "csv")))


def uploaded() -> tuple[bytes, str | None, str | None, dict[str, str]]:
    """The file's bytes, media type and name, and the form fields sent beside it."""
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None:
            abort(422, messages={"form": {"file": ["send the plan file in the multipart field `file`"]}})
        return upload.read(), upload.mimetype, upload.filename, request.form.to_dict()
    return request.get_data(), request.mimetype, None, {}


def options(query: dict[str, Any], form: dict[str, str]) -> tuple[ImportOptions, bool]:
    if form:
        try:
            query = {**query, **ImportQuery(partial=True).load(form)}
        except ValidationError as wrong:
            abort(422, messages={"form": wrong.messages})
    given = {k: v for k, v in query.items() if k != "dry_run" and v is not None}
    return ImportOptions(**{**given, "lead_agency_by_person": given.get("lead_agency_by_person") or {}}), query[
        "dry_run"
    ]


def answer(result: ImportResult, dry_run: bool) -> Any:
    body = ImportOut().dump(result.as_dict())
    if result.errors:
        count = len(result.errors)
        detail = f"the file was not imported ({count} error{'s' if count > 1 else ''}); nothing was written"
        problem_body = {"type": TYPE_BASE + "import-refused", "title": "Unprocessable Content", "status": 422}
        text = json.dumps({**problem_body, "detail": detail, **body}) + "\n"
        return Response(text, status=422, mimetype=PROBLEM)
    if dry_run:
        return Response(json.dumps(body) + "\n", status=200, mimetype="application/json")
    return body, 201, {"Location": url_for("plans.Plan", plan_id=result.plan_id)}


@blp.route("")
class PlanImport(MethodView):
    @blp.arguments(ImportQuery, **STRICT_QUERY)
    @blp.response(201, ImportOut, description="imported: the new plan's id, and what was read")
    @blp.alt_response(200, schema=ImportOut, description="a dry run: what would be imported; nothing written")
    @blp.alt_response(422, schema=ImportProblemOut, content_type=PROBLEM, description="refused: nothing written")
    @blp.doc(
        description=f"Coordinators. {OPTIONS_DOC}",
        requestBody={
            "required": True,
            "content": {
                XLSX: BINARY,
                "text/csv": BINARY,
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document": BINARY,
                "multipart/form-data": {
                    "schema": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}
                },
            },
        },
    )
    def post(self, query: dict[str, Any]) -> Any:
        who = principal()
        who.check_may_manage_plans()
        if request.mimetype not in ACCEPTED:
            return problem(415, "Unsupported Media Type", "send an xlsx, csv or docx file, or multipart field `file`")
        data, media_type, filename, form = uploaded()
        chosen, dry_run = options(query, form)
        result = get_system().app.import_plan(
            who, data, media_type=media_type, filename=filename, options=chosen, dry_run=dry_run
        )
        return answer(result, dry_run)


@blp.route("/template")
class Template(MethodView):
    @blp.arguments(TemplateQuery, **STRICT_QUERY)
    @blp.response(200, description="the blank template")
    @blp.doc(responses={"200": {"content": {XLSX: BINARY, "text/csv": BINARY}}})
    def get(self, query: dict[str, Any]) -> Any:
        if query["format"] == "csv":
            data, media_type = template_csv(), "text/csv"
        else:
            data, media_type = template_xlsx(get_system().settings.agencies), XLSX
        disposition = f'attachment; filename="accord-plan-template.{query["format"]}"'
        return Response(data, mimetype=media_type, headers={"Content-Disposition": disposition})


def allow_plan_files() -> None:
    """The import takes files up to ACCORD_IMPORT_MAX_BYTES; every other request keeps ACCORD_MAX_BODY_BYTES."""
    if request.endpoint == ENDPOINT:
        request.max_content_length = get_system().settings.import_max_bytes


def init_app(app: Flask) -> None:
    """Register before anything reads the body (the Idempotency-Key check hashes it)."""
    app.before_request(allow_plan_files)
