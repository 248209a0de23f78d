"""The access log on the pages: inspectors say why before their first history or past view of a session, each such
read is recorded with that purpose (as the API records `Accord-Purpose`), and coordinators and inspectors read
the log."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from api import get_system
from api.access_log import access_log, note_read
from domain.principals import INSPECTOR
from service.access_log import check_may_read
from web.auth import local_path, me, page_errors
from web.forms import PurposeForm

bp = Blueprint("web_access", __name__)
page_errors(bp)


def needs_purpose() -> Response | None:
    """For an inspector who has not yet said why in this session: the purpose page, then back here."""
    if me().role == INSPECTOR and not session.get("purpose"):
        return redirect(url_for("web_access.purpose", next=request.full_path.rstrip("?")))
    return None


def record_read(what: str, *, action_id: Any = None, plan_id: Any = None) -> None:
    """Recorded after the page is rendered, and only if it was (api.access_log.record_read)."""
    note_read(what, action_id, plan_id, session.get("purpose"))


@bp.route("/purpose", methods=["GET", "POST"])
def purpose() -> Any:
    form = PurposeForm()
    if request.method == "GET" and session.get("purpose"):
        form.purpose.data = session["purpose"]
    if form.validate_on_submit():
        session["purpose"] = form.purpose.data.strip()
        return redirect(local_path(request.args.get("next")))
    return render_template("purpose.html", title="Why are you reading histories?", form=form)


@bp.route("/access-log")
def log() -> str:
    check_may_read(me())
    action_id = request.args.get("action_id") or None
    entries = access_log().entries(action_id=action_id, limit=1000)
    system, numbers = get_system(), {}
    for entry_action in {e["action_id"] for e in entries if e.get("action_id")}:
        found = system.current.get_action(entry_action, system.app.today())
        numbers[entry_action] = found["number"] if found else None
    return render_template(
        "access_log.html", title="Access log", entries=list(reversed(entries)), action_id=action_id, numbers=numbers
    )
