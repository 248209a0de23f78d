"""Marshmallow schemas at the edge: what comes in (unknown fields refused) and what goes out."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate

from api.text import Text, storable
from domain.plan import KINDS, RECOMMENDATION
from domain.timeline import RAGS, STATUSES

SHORT = validate.Length(min=1, max=500)
LONG = validate.Length(min=1, max=20_000)
SLUG = validate.Regexp(r"^[a-z][a-z0-9_-]{0,39}$", error="must be an agency slug such as 'health'")


def iso_date(metadata: dict[str, str] | None = None, **kwargs: object) -> fields.String:
    """Read models hold dates as ISO text already; document them as dates."""
    return fields.String(metadata={"format": "date", **(metadata or {})}, **kwargs)  # type: ignore[arg-type]


# The last day time travel can see (and `since` may name): the temporal view marks "not superseded" with 9999-12-31.
LAST_DAY = date(9999, 12, 30)
UP_TO_LAST_DAY = validate.Range(max=LAST_DAY, error=f"must be on or before {LAST_DAY.isoformat()}")


def in_calendar(moment: datetime) -> None:
    """An instant whose UTC day is in the calendar Accord can see (0001-01-01 to LAST_DAY)."""
    try:
        day = moment.astimezone(UTC).date()
    except OverflowError:
        raise ValidationError(f"must be between 0001-01-01 and {LAST_DAY.isoformat()} in UTC") from None
    UP_TO_LAST_DAY(day)


class Strict(Schema):
    class Meta:
        unknown = RAISE


class ProblemSchema(Schema):
    """RFC 9457: every error body. `errors` (field name to messages) only on a validation failure (422)."""

    type = fields.String(required=True, metadata={"format": "uri"})
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))


# In.


class PlanIn(Strict):
    title = Text(required=True, validate=SHORT)
    source = Text(required=True, validate=LONG)
    owner_agency = Text(required=True, validate=SLUG)


class RecommendationIn(Strict):
    number = Text(required=True, validate=validate.Length(min=1, max=20))
    text = Text(required=True, validate=LONG)
    timescale = Text(required=True, validate=SHORT)
    kind = Text(load_default=RECOMMENDATION, validate=validate.OneOf(KINDS))
    reference = Text(load_default=None, allow_none=True, validate=SHORT)
    outcomes = fields.List(Text(validate=LONG), load_default=list, validate=validate.Length(max=50))
    measures = fields.List(Text(validate=LONG), load_default=list, validate=validate.Length(max=50))


class ActionIn(Strict):
    recommendation_id = fields.UUID(required=True)
    number = Text(required=True, validate=validate.Length(min=1, max=20))
    description = Text(required=True, validate=LONG)
    lead_agency = Text(required=True, validate=SLUG)
    lead_person = Text(load_default=None, allow_none=True, validate=SHORT)
    contributing_agencies = fields.List(Text(validate=SLUG), load_default=list, validate=validate.Length(max=20))
    due_date = fields.Date(load_default=None, allow_none=True)
    due_label = Text(load_default=None, allow_none=True, validate=SHORT)
    cost = Text(load_default=None, allow_none=True, validate=SHORT)
    effective_date = fields.Date(load_default=None)


class EvidenceIn(Strict):
    title = Text(required=True, validate=SHORT)
    url = fields.Url(load_default=None, allow_none=True, validate=[validate.Length(max=2000), storable])


class UpdateIn(Strict):
    effective_date = fields.Date(load_default=None)
    progress = Text(load_default=None, validate=LONG)
    status = Text(load_default=None, validate=validate.OneOf(STATUSES))
    rag = Text(load_default=None, validate=validate.OneOf(RAGS))
    due_date = fields.Date(load_default=None)
    due_label = Text(load_default=None, validate=SHORT)
    reason = Text(load_default=None, validate=LONG)
    impact = Text(load_default=None, validate=LONG)
    evidence = fields.List(fields.Nested(EvidenceIn), load_default=None, validate=validate.Length(min=1, max=20))


class LeadIn(Strict):
    lead_agency = Text(required=True, validate=SLUG)
    lead_person = Text(load_default=None, allow_none=True, validate=SHORT)
    contributing_agencies = fields.List(Text(validate=SLUG), load_default=list, validate=validate.Length(max=20))
    effective_date = fields.Date(load_default=None)


# webargs drops unknown query parameters unless told otherwise; `unknown=None` leaves it to the schema (Strict:
# refused with 422), so that a misspelt parameter cannot silently answer another question.
STRICT_QUERY: dict[str, Any] = {"location": "query", "unknown": None}
MAX_PAGE = 1000


class PageQuery(Strict):
    limit = fields.Integer(
        load_default=500, validate=validate.Range(1, MAX_PAGE), metadata={"description": "items per page"}
    )
    offset = fields.Integer(
        load_default=0, validate=validate.Range(0, 1_000_000_000), metadata={"description": "items to skip"}
    )


def page(items: list[Any], query: dict[str, Any]) -> dict[str, Any]:
    """One page of `items`; `next_offset` is where the next page starts, null on the last."""
    end = query["offset"] + query["limit"]
    return {"items": items[query["offset"] : end], "next_offset": end if len(items) > end else None}


class AgencyActionsQuery(PageQuery):
    status = Text(load_default=None, validate=validate.OneOf(STATUSES))
    overdue = fields.Boolean(load_default=None)


# Out.


class WrittenOut(Schema):
    id = fields.UUID()
    version = fields.Integer()
    position = fields.Integer(metadata={"description": "event-store position of this write"})


class LastUpdateOut(Schema):
    text = fields.String()
    effective_date = iso_date()


class ActionOut(Schema):
    id = fields.UUID()
    plan_id = fields.UUID()
    recommendation_id = fields.UUID()
    number = fields.String()
    description = fields.String()
    lead_agency = fields.String()
    lead_person = fields.String(allow_none=True)
    contributing_agencies = fields.List(fields.String())
    due_date = iso_date(allow_none=True)
    due_label = fields.String(allow_none=True)
    cost = fields.String(allow_none=True)
    start_date = iso_date()
    status = fields.String(validate=validate.OneOf(STATUSES))
    rag = fields.String(allow_none=True, validate=validate.OneOf(RAGS))
    overdue = fields.Boolean()
    last_update = fields.Nested(LastUpdateOut, allow_none=True)
    version = fields.Integer(metadata={"description": "absent when seen as at a date"})
    as_at = iso_date(metadata={"description": "present when seen as at a date"})
    known_at = fields.String(metadata={"format": "date-time", "description": "present when seen as at a date"})


class ActionListOut(Schema):
    items = fields.List(fields.Nested(ActionOut))
    next_offset = fields.Integer(allow_none=True, metadata={"description": "offset of the next page; null on the last"})


class SummaryOut(Schema):
    total = fields.Integer()
    by_status = fields.Dict(keys=fields.String(), values=fields.Integer())
    by_rag = fields.Dict(keys=fields.String(), values=fields.Integer())
    overdue = fields.Integer()


class RecommendationOut(Schema):
    id = fields.UUID()
    number = fields.String()
    text = fields.String()
    timescale = fields.String()
    kind = fields.String()
    reference = fields.String(allow_none=True)
    outcomes = fields.List(fields.String())
    measures = fields.List(fields.String())
    actions = fields.List(fields.Nested(ActionOut))


class PlanSummaryOut(Schema):
    id = fields.UUID()
    title = fields.String()
    source = fields.String()
    owner_agency = fields.String()
    summary = fields.Nested(SummaryOut)


class PlanListOut(Schema):
    items = fields.List(fields.Nested(PlanSummaryOut))
    next_offset = fields.Integer(allow_none=True, metadata={"description": "offset of the next page; null on the last"})


class PlanOut(PlanSummaryOut):
    recommendations = fields.List(fields.Nested(RecommendationOut))
