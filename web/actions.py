"""An action with its history as a timeline, and the update form: the same `post_update` use case as the API,
with the version the form was opened at as its expected version and the form's key as its update id."""

from __future__ import annotations

import uuid
from typing import Any
from uuid import UUID

from flask import Blueprint, flash, redirect, render_template, request, url_for

from api import get_system
from api.history import history_view
from domain.errors import ActionClosed, DomainError, NotFound, StaleVersion
from service import queries
from web.access import needs_purpose, record_read
from web.auth import me, page_errors
from web.forms import NO_CHANGE, UpdateForm
from web.plans import parse_moments

bp = Blueprint("web_actions", __name__)
page_errors(bp)
# The domain's words for the API, said as a GOV.UK error message where they would read oddly on the form.
SAID = {"_schema": "Enter progress, or change the status, RAG rating or due date, or add impact or evidence"}
FIELD_OF = {"_schema": "progress", "effective_date": "effective_date", "reason": "reason", "due_date": "due_date"}


@bp.route("/actions/<uuid:action_id>")
def action(action_id: UUID) -> Any:
    if refused := needs_purpose():
        return refused
    system = get_system()
    current = queries.current_action(system, str(action_id))
    as_at, known_at = parse_moments(request.args)
    stood = (
        queries.action_at(system, str(action_id), *queries.moments(system, as_at, known_at))
        if (as_at or known_at)
        else None
    )
    history = history_view().history(str(action_id)) or []
    record_read("history", action_id=action_id)
    plan = queries.current_plan(system, current["plan_id"])
    return render_template(
        "action.html",
        title=f"Action {current['number']}",
        action=current,
        stood=stood,
        plan=plan,
        history=list(reversed(history)),
        may_update=may_update(action_id),
    )


def may_update(action_id: UUID) -> bool:
    try:
        get_system().app.updatable_fields(me(), action_id)
    except DomainError:
        return False
    return True


@bp.route("/actions/<uuid:action_id>/update", methods=["GET", "POST"])
def update(action_id: UUID) -> Any:
    system = get_system()
    allowed = system.app.updatable_fields(me(), action_id)  # NotPermitted: the 403 page, and no form at all.
    current = queries.current_action(system, str(action_id))
    form = UpdateForm()
    if request.method == "GET":
        form.effective_date.data = system.app.today()
        form.version.data = str(current["version"])
        form.key.data = str(uuid.uuid4())
    others: list[dict[str, Any]] = []
    if form.validate_on_submit():
        try:
            system.app.post_update(
                me(),
                action_id,
                expected_version=int(form.version.data),
                update_id=uuid.uuid5(uuid.NAMESPACE_URL, f"accord:form:{me().user_id}:{form.key.data}"),
                effective_date=form.effective_date.data,
                **update_fields(form, allowed),
            )
        except StaleVersion:
            # Someone saved first: show what they wrote, keep this person's text, and let them send it on purpose.
            history = history_view().history(str(action_id)) or []
            others = [item for item in history if item["seq"] > int(form.version.data)]
            form.version.data = str(current["version"])
            form.progress.errors = ["This action was updated while you were writing: read the update below"]
        except (ActionClosed, DomainError) as error:
            if isinstance(error, NotFound):
                raise
            field = getattr(form, FIELD_OF.get(error.field or "", "progress"), form.progress)
            field.errors = [SAID.get(error.field or "", sentence(str(error)))]
        else:
            flash("Your update has been saved.")
            return redirect(url_for("web_actions.action", action_id=action_id))
    return render_template(
        "update.html",
        title=f"Update action {current['number']}",
        action=current,
        form=form,
        allowed=allowed,
        others=others,
    )


def sentence(message: str) -> str:
    return message[:1].upper() + message[1:]


def update_fields(form: UpdateForm, allowed: tuple[str, ...]) -> dict[str, Any]:
    """The form's answers as `post_update` takes them; fields this person may not report are not on the form."""
    evidence = (
        [{"title": form.evidence_title.data, "url": form.evidence_url.data or None}]
        if form.evidence_title.data
        else None
    )
    fields: dict[str, Any] = {
        "progress": form.progress.data or None,
        "status": form.status.data if form.status.data != NO_CHANGE else None,
        "rag": form.rag.data if form.rag.data != NO_CHANGE else None,
        "due_date": form.due_date.data,
        "due_label": form.due_label.data or None,
        "reason": form.reason.data or None,
        "impact": form.impact.data or None,
        "evidence": evidence,
    }
    kept = {"due_label", "reason", *allowed}
    return {name: value for name, value in fields.items() if name in kept}
