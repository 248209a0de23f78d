"""The committee report page: the report as HTML in the page, with a download in each format.

The same `committee_report` query and renderers as the API (whose downloads need a bearer token, so the page has
its own), the previous meeting as the default `since`, and every read recorded in the access log with its purpose.
"""

from __future__ import annotations

import contextlib
from datetime import date
from typing import Any
from uuid import UUID

from flask import Blueprint, Response, redirect, render_template, request, url_for
from markupsafe import Markup

from api import get_system
from domain.errors import NotFound
from reports import FORMATS, filename, render
from reports.html import css, render_fragment
from service import queries
from service.cycles import since_previous_meeting
from service.reports import Report, committee_report
from web.access import needs_purpose, record_read
from web.auth import me, page_errors
from web.forms import ReportForm
from web.plans import end_of_day, parse_moments

bp = Blueprint("web_reports", __name__)
page_errors(bp)
FORMAT_NAMES = {"pdf": "PDF", "docx": "Word", "xlsx": "Excel", "csv": "CSV", "html": "Web page"}


def asked() -> dict[str, Any]:
    """as_at, known_at and since as the API takes them, with their defaults; NotFound (404) if malformed."""
    as_at, known_at = parse_moments(request.args)
    try:
        since = date.fromisoformat(request.args["since"]) if request.args.get("since") else None
    except ValueError:
        raise NotFound("since must be a date such as 2026-09-18") from None
    moments = queries.moments(get_system(), as_at, known_at)
    return {"as_at": moments[0], "known_at": moments[1], "since": since}


def report_for(plan_id: UUID, moments: dict[str, Any]) -> Report:
    """The report, by the query the API and the CLI use; NotFound when the plan was not known at `known_at`."""
    system = get_system()
    return committee_report(
        system, str(plan_id), **moments, default_since=since_previous_meeting(system.projections), reader=me()
    )


@bp.route("/plans/<uuid:plan_id>/report")
def report(plan_id: UUID) -> Any:
    system = get_system()
    plan = queries.current_plan(system, str(plan_id))
    form = ReportForm(request.args) if "report_date" in request.args else ReportForm()
    if "report_date" in request.args and form.validate():
        day, since = form.report_date.data, form.since.data
        known = end_of_day(day).isoformat() if form.known.data == "then" else None
        chosen = {"as_at": day.isoformat(), "known_at": known, "since": since.isoformat() if since else None}
        return redirect(url_for("web_reports.report", plan_id=plan_id, **chosen))
    if refused := needs_purpose():
        return refused
    moments, shown = asked(), None
    if not form.errors:
        with contextlib.suppress(NotFound):  # The plan was not yet known then: the page says so, as the board does.
            shown = report_for(plan_id, moments)
    if shown is not None:
        record_read("plan_report", plan_id=plan_id)
        if "report_date" not in request.args:  # The form shows the dates of the report on the page.
            form.report_date.data, form.since.data = shown.as_at, shown.since
            form.known.data = "then" if request.args.get("known_at") else "now"
    downloads = [
        {"name": FORMAT_NAMES[fmt], "href": url_for("web_reports.download", plan_id=plan_id, format=fmt, **given())}
        for fmt in FORMATS
        if fmt != "html"
    ]
    return render_template(
        "report.html",
        title=f"Committee report: {plan['title']}",
        plan=plan,
        form=form,
        report=Markup(render_fragment(shown)) if shown else None,  # The renderer escapes every text it prints.
        unknown=None if shown or form.errors else moments,
        downloads=downloads,
    )


def given() -> dict[str, str]:
    return {k: request.args[k] for k in ("as_at", "known_at", "since") if request.args.get(k)}


@bp.route("/plans/<uuid:plan_id>/report/download")
def download(plan_id: UUID) -> Any:
    fmt = request.args.get("format", "")
    if fmt not in FORMATS:
        raise NotFound("no such format: pdf, docx, xlsx, csv or html")
    if refused := needs_purpose():
        return refused
    shown = report_for(plan_id, asked())
    record_read("plan_report", plan_id=plan_id)
    return Response(
        render(shown, fmt),
        mimetype=FORMATS[fmt].media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename(shown, fmt)}"'},
    )


@bp.route("/report.css")
def stylesheet() -> Response:
    """The report's own styles, for the page (no inline styles under the Content-Security-Policy)."""
    return Response(css(), mimetype="text/css")
