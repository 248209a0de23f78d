"""A plan's committee and board meetings, with the chase list for the next one; coordinators add meetings.

The list and the chase list are `service.cycles.meetings_with_chase_list`, as the API answers them; a meeting is
added by the same `schedule_meeting` use case, the form's key making a second submit write nothing.
"""

from __future__ import annotations

import uuid
from typing import Any
from uuid import UUID

from flask import Blueprint, flash, redirect, render_template, request, url_for

from api import get_system
from domain.errors import DomainError, NotFound
from domain.principals import COORDINATOR
from service import queries
from service.cycles import meetings_with_chase_list
from web.auth import me, page_errors
from web.forms import MeetingForm

bp = Blueprint("web_meetings", __name__)
page_errors(bp)
FIELD_OF = {"updates_due": "updates_due", "date": "meeting_date", "meeting_date": "meeting_date"}


@bp.route("/plans/<uuid:plan_id>/meetings", methods=["GET", "POST"])
def meetings(plan_id: UUID) -> Any:
    system = get_system()
    plan = queries.current_plan(system, str(plan_id))
    form = MeetingForm() if me().role == COORDINATOR else None
    if request.method == "POST":
        me().check_may_manage_plans()  # NotPermitted: the 403 page.
        assert form is not None
        if form.validate_on_submit():
            try:
                system.app.schedule_meeting(
                    me(),
                    plan_id,
                    meeting_date=form.meeting_date.data,
                    title=form.title.data.strip(),
                    updates_due=form.updates_due.data,
                    meeting_id=uuid.uuid5(uuid.NAMESPACE_URL, f"accord:meeting-form:{me().user_id}:{form.key.data}"),
                )
            except DomainError as error:
                if isinstance(error, NotFound):
                    raise
                field = getattr(form, FIELD_OF.get(error.field or "", "title"))
                field.errors = [said(str(error))]
            else:
                flash(f"The meeting on {form.meeting_date.data.strftime('%-d %B %Y')} has been added.")
                return redirect(url_for("web_meetings.meetings", plan_id=plan_id))
    if form is not None and request.method == "GET":
        form.key.data = str(uuid.uuid4())
    items = meetings_with_chase_list(system.projections, str(plan_id), system.app.today(), system.app.zone)
    upcoming = next((m for m in items if m["next"]), None)
    return render_template(
        "meetings.html", title=f"Meetings: {plan['title']}", plan=plan, meetings=items, upcoming=upcoming, form=form
    )


def said(message: str) -> str:
    """The domain's words, with the form's field names."""
    message = message.replace("updates_due", "Updates due by").replace("the meeting's date", "the date of the meeting")
    return message[:1].upper() + message[1:]
