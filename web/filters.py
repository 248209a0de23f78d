"""How values read to people: dates as "18 September 2013", statuses and RAG ratings as words in GOV.UK tags."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, g
from markupsafe import Markup, escape

STATUS = {
    "not_started": ("Not started", "govuk-tag--grey"),
    "in_progress": ("In progress", "govuk-tag--light-blue"),
    "completed": ("Completed", "govuk-tag--green"),
    "withdrawn": ("Withdrawn", "govuk-tag--purple"),
}
RAG = {
    "red": ("Red", "govuk-tag--red"),
    "amber": ("Amber", "govuk-tag--orange"),
    "green": ("Green", "govuk-tag--green"),
    "blue": ("Blue", "govuk-tag--blue"),
    None: ("Not rated", "govuk-tag--grey"),
}
ROLES = {"coordinator": "Coordinator", "editor": "Editor", "inspector": "Inspector", "reader": "Reader"}
FIELDS = {
    "status": "Status",
    "rag": "RAG rating",
    "due_date": "Due date",
    "due_label": "Due (as written)",
    "lead_agency": "Lead agency",
    "lead_person": "Lead person",
    "contributing_agencies": "Contributing agencies",
    "last_update": "Latest update",
    "progress": "Progress",
}


def as_date(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def long_date(value: Any) -> str:
    """18 September 2013, as GOV.UK writes dates."""
    day = as_date(value)
    return f"{day.day} {day:%B %Y}" if day else ""


def long_instant(value: Any) -> str:
    """18 September 2013 at 2:05pm, in the deployment's time zone."""
    if not value:
        return ""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    local = moment.astimezone(g.get("zone") or ZoneInfo("Europe/London"))
    hour = local.hour % 12 or 12
    return f"{local.day} {local:%B %Y} at {hour}:{local:%M}{'am' if local.hour < 12 else 'pm'}"


def tag(text: str, classes: str) -> Markup:
    return Markup('<strong class="govuk-tag {}">{}</strong>').format(classes, text)


def status_tag(status: str) -> Markup:
    return tag(*STATUS.get(status, (status, "govuk-tag--grey")))


def rag_tag(rag: str | None) -> Markup:
    return tag(*RAG.get(rag, (str(rag), "govuk-tag--grey")))


def agency(slug: str | None) -> str:
    return {"lscb": "LSCB"}.get(slug or "", (slug or "").replace("_", " ").replace("-", " ").capitalize())


def last_update(raw: dict[str, Any]) -> Markup:
    return Markup("{} <span class='govuk-hint'>({})</span>").format(
        raw.get("text"), long_date(raw.get("effective_date"))
    )


SHOW: dict[str, Any] = {
    "status": status_tag,
    "rag": rag_tag,
    "due_date": long_date,
    "lead_agency": agency,
    "contributing_agencies": lambda raw: ", ".join(agency(a) for a in raw),
    "last_update": last_update,
}


def value(field: str, raw: Any) -> Markup | str:
    """A history or changes value, as words."""
    if raw is None or raw == []:
        return Markup('<span class="govuk-hint govuk-!-margin-0">none</span>')
    return SHOW.get(field, lambda raw: escape(str(raw)))(raw)  # type: ignore[no-any-return]


def small_legend(field: Any) -> dict[str, Any]:
    """A fieldset legend in small bold type: given whole, since govuk-frontend-wtf drops the field's label
    from a legend given only its classes."""
    return {"legend": {"text": field.label.text, "classes": "govuk-fieldset__legend--s"}}


def init_app(app: Flask) -> None:
    app.add_template_global(small_legend, "small_legend")
    app.add_template_global({"as_at": "as at", "known_at": "as known at", "from": "from", "to": "to"}, "PARAM_NAMES")
    app.add_template_filter(long_date, "long_date")
    app.add_template_filter(long_instant, "long_instant")
    app.add_template_filter(status_tag, "status_tag")
    app.add_template_filter(rag_tag, "rag_tag")
    app.add_template_filter(agency, "agency")
    app.add_template_global(value, "field_value")
    app.add_template_global(FIELDS, "FIELD_NAMES")
    app.add_template_global(ROLES, "ROLE_NAMES")
    app.add_template_global(STATUS, "STATUSES")
    app.add_template_global(RAG, "RAGS")
