"""Signing in and out: email and password (Argon2id), invitation links, sessions that expire, slowed guessing.

Sessions are Flask's signed cookies (HttpOnly, SameSite=Lax, Secure over HTTPS) holding the user's id and when
the session began and was last used; flask-login turns them into the signed-in principal on each request.
"""

from __future__ import annotations

import math
import time
from datetime import datetime, timedelta
from typing import Any, cast
from urllib.parse import urlsplit

from flask import Blueprint, Flask, abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf.csrf import CSRFError
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from werkzeug.wrappers import Response

from api import get_system
from domain.errors import DomainError, NotFound, NotPermitted
from domain.principals import Principal
from web.forms import InvitationForm, SignInForm

bp = Blueprint("web_auth", __name__)
IDLE = timedelta(minutes=30)
ABSOLUTE = timedelta(hours=12)
PER_ACCOUNT = parse("5/15 minutes")  # Failed sign-ins for one email address...
PER_ADDRESS = parse("20/15 minutes")  # ...and from one network address, before the next must wait.
PAGES = "web_"  # Blueprints of pages for people are named web_...: each of their views needs a signed-in person.
OPEN_ENDPOINTS = frozenset({"web_auth.sign_in", "web_auth.invitation"})
WRONG = "Enter a correct email address and password"  # One message: never which of the two was wrong.
login_manager = LoginManager()


class Person(UserMixin):  # type: ignore[misc]
    """The signed-in user, as flask-login wants it."""

    def __init__(self, principal: Principal) -> None:
        self.principal = principal

    def get_id(self) -> str:
        return self.principal.user_id


def me() -> Principal:
    person: Person = cast(Person, current_user)
    return person.principal


def now() -> datetime:
    return get_system().app.clock()


@login_manager.user_loader
def load_person(user_id: str) -> Person | None:
    """The session's user, unless revoked, signed out since, or the session has run out of time."""
    began, seen = session.get("began"), session.get("seen")
    if not began or not seen:
        return None
    began_at, seen_at, moment = datetime.fromisoformat(began), datetime.fromisoformat(seen), now()
    if moment - began_at > ABSOLUTE or moment - seen_at > IDLE:
        g.session_expired = True
        return None
    principal = get_system().app.principal_of(user_id, signed_in_at=began_at)
    if principal is None:
        return None
    session["seen"] = moment.isoformat()
    return Person(principal)


@login_manager.unauthorized_handler
def to_sign_in() -> Response:
    """Signed out: to the sign-in page, which brings the person back here afterwards."""
    if g.get("session_expired"):
        session.clear()
        flash("You were signed out because you had not used Accord for 30 minutes, or for 12 hours in all.")
    return redirect(url_for("web_auth.sign_in", next=request.full_path.rstrip("?")))


def require_sign_in() -> Response | None:
    """Every page (a view of a `web_...` blueprint) but signing in and invitations needs a signed-in person; the
    API, health checks, metrics and assets are not pages."""
    if not (request.blueprint or "").startswith(PAGES) or request.endpoint in OPEN_ENDPOINTS:
        return None
    if not current_user.is_authenticated:
        return cast(Response, login_manager.unauthorized())
    g.principal = me()  # What the access log (api.access_log) records as the reader.
    return None


def check_csrf() -> None:
    """Every form post from a page carries the session's CSRF token (flask-wtf); API writes use bearer tokens."""
    if request.method == "POST" and not request.path.startswith("/api/"):
        from web import csrf

        csrf.protect()


def local_path(target: str | None) -> str:
    """`next` only as a path on this site: never another host, scheme or a protocol-relative URL."""
    if not target:
        return url_for("web_plans.home")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith(("//", "/\\")):
        return url_for("web_plans.home")
    return target


def begin_session(principal: Principal) -> None:
    """A new session for the person: nothing from before signing in carries over (no fixation)."""
    session.clear()
    session.permanent = True
    moment = now().isoformat()
    session["began"] = session["seen"] = moment
    login_user(Person(principal))


# Slowing repeated failures.


class Throttle:
    """Failed sign-ins counted per email address and per network address, in Redis when configured."""

    def __init__(self, storage_uri: str) -> None:
        self.limiter = MovingWindowRateLimiter(storage_from_string(storage_uri))

    def keys(self, email: str) -> list[tuple[Any, str]]:
        return [(PER_ACCOUNT, f"account:{email.strip().lower()}"), (PER_ADDRESS, f"address:{request.remote_addr}")]

    def wait_seconds(self, email: str) -> int:
        """0 when another attempt may be made now, else how long until one may."""
        waits = [
            self.limiter.get_window_stats(limit, "accord-sign-in", key).reset_time - time.time()
            for limit, key in self.keys(email)
            if not self.limiter.test(limit, "accord-sign-in", key)
        ]
        return math.ceil(max(waits)) if waits else 0

    def failed(self, email: str) -> None:
        for limit, key in self.keys(email):
            self.limiter.hit(limit, "accord-sign-in", key)


def throttle() -> Throttle:
    found: Throttle = current_app.extensions["accord.sign_in_throttle"]
    return found


# Pages.


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> Any:
    form = SignInForm()
    target = local_path(request.args.get("next"))
    if current_user.is_authenticated and request.method == "GET":
        return redirect(target)
    status = 200
    if form.validate_on_submit():
        wait = throttle().wait_seconds(form.email.data)
        if wait:
            form.password.errors.append(f"Too many attempts: wait {math.ceil(wait / 60)} minutes, then try again")
            status = 429
        else:
            principal = get_system().app.sign_in(form.email.data, form.password.data)
            if principal is not None:
                begin_session(principal)
                return redirect(target)
            throttle().failed(form.email.data)
            form.email.errors.append(WRONG)
    return render_template("sign_in.html", form=form, title="Sign in", wrong=WRONG), status


@bp.route("/sign-out", methods=["POST"])
def sign_out() -> Response:
    if current_user.is_authenticated:
        get_system().app.sign_out(me().user_id)
    logout_user()
    session.clear()
    flash("You have signed out.")
    return redirect(url_for("web_auth.sign_in"))


@bp.route("/invitations/<token>", methods=["GET", "POST"])
def invitation(token: str) -> Any:
    app = get_system().app
    invited = app.invited(token)
    if invited is None:
        return render_template("invitation_gone.html", title="This invitation link cannot be used"), 404
    form = InvitationForm()
    if form.validate_on_submit():
        try:
            principal = app.accept_invitation(token, form.password.data)
        except NotFound:
            return render_template("invitation_gone.html", title="This invitation link cannot be used"), 404
        except DomainError as error:
            form.password.errors.append(str(error))
        else:
            begin_session(principal)
            flash("Your password is set and you are signed in.")
            return redirect(url_for("web_plans.home"))
    return render_template("invitation.html", form=form, invited=invited, title="Create your password")


# Errors every page may meet.


def forbidden(error: Exception) -> tuple[str, int]:
    return render_template("error.html", title="You cannot do this", detail=str(error), status=403), 403


def missing(error: Exception) -> tuple[str, int]:
    return render_template("error.html", title="Page not found", detail=str(error), status=404), 404


def csrf_failed(error: CSRFError) -> tuple[str, int]:
    return render_template(
        "error.html",
        title="This form has expired",
        detail="Nothing was saved. Go back, reload the page and try again.",
        status=400,
    ), 400


def page_errors(blueprint: Blueprint) -> None:
    """Domain errors on a page become pages, not the API's problem bodies."""
    blueprint.register_error_handler(NotPermitted, forbidden)
    blueprint.register_error_handler(NotFound, missing)
    blueprint.register_error_handler(CSRFError, csrf_failed)


def abort_unless(allowed: bool) -> None:
    if not allowed:
        abort(403)


def init_app(app: Flask) -> None:
    settings = get_system(app).settings
    app.extensions["accord.sign_in_throttle"] = Throttle(settings.redis_url or "memory://")
    login_manager.init_app(app)
    app.before_request(require_sign_in)
    app.before_request(check_csrf)
    app.register_error_handler(CSRFError, csrf_failed)


page_errors(bp)
