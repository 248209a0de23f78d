"""The signed-in person's account: who Accord knows them as, and whether they get the weekly digest (reminders
before a committee are not optional)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask import Blueprint, flash, redirect, render_template, request, url_for

from api import get_system
from service import queries
from web.auth import me, page_errors
from web.forms import DigestsForm

bp = Blueprint("web_account", __name__)
page_errors(bp)


@bp.route("/account", methods=["GET", "POST"])
def account() -> Any:
    system = get_system()
    form = DigestsForm()
    if form.validate_on_submit():
        on = form.digests.data == "on"
        system.app.set_digests(UUID(me().user_id), on)
        flash("You will get the weekly digest email." if on else "You will not get the weekly digest email.")
        return redirect(url_for("web_account.account"))
    user = queries.user(system, me().user_id)
    if request.method == "GET":
        form.digests.data = "on" if user["digests"] else "off"
    return render_template("account.html", title="Your account", user=user, form=form)
