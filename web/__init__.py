"""Accord's pages for people: GOV.UK Frontend pages on the same use cases and read models as the API.

`init_app` adds them to the app `api.create_app` builds: sessions, CSRF, templates, security headers, blueprints.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path

from flask import Flask, Response, g, render_template, request
from flask_wtf.csrf import CSRFProtect
from govuk_frontend_wtf.main import WTFormsHelpers
from jinja2 import ChoiceLoader, PackageLoader, PrefixLoader
from werkzeug.exceptions import HTTPException

from api import get_system
from web import filters, navigation

ASSETS = Path(__file__).with_name("static")
IDLE = timedelta(minutes=30)
csrf = CSRFProtect()


def init_app(app: Flask) -> None:
    from web import access, actions, auth, plans

    settings = get_system(app).settings
    app.config.update(
        SECRET_KEY=settings.session_secret(),
        SESSION_COOKIE_NAME="accord_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.cookies_secure,
        PERMANENT_SESSION_LIFETIME=IDLE,  # The cookie dies with the idle timeout; web.auth also checks both limits.
        WTF_CSRF_CHECK_DEFAULT=False,  # The API's bearer-token writes need none; every page POST is checked below.
        WTF_CSRF_TIME_LIMIT=None,  # A token lives as long as its session (at most 12 hours).
    )
    app.jinja_loader = ChoiceLoader(  # type: ignore[assignment]
        [
            PackageLoader("web"),
            PrefixLoader(
                {
                    "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
                    "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf"),
                }
            ),
        ]
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    filters.init_app(app)
    navigation.init_app(app)
    csrf.init_app(app)
    WTFormsHelpers(app)
    app.before_request(make_nonce)  # Before signing in is checked: a redirect's page needs its nonce too.
    auth.init_app(app)
    for module in (auth, plans, actions, access):
        app.register_blueprint(module.bp)
    app.add_url_rule("/assets/<path:filename>", "assets", serve_asset)
    app.after_request(secure_headers)
    for status in TITLES:
        app.register_error_handler(status, error_page)


def serve_asset(filename: str) -> Response:
    from flask import send_from_directory

    response = send_from_directory(ASSETS, filename, max_age=3600)
    return response


def make_nonce() -> None:
    g.csp_nonce = secrets.token_urlsafe(16)


def secure_headers(response: Response) -> Response:
    """Every page: no inline script but GOV.UK Frontend's one-line class snippet (by nonce), no framing, no
    referrer beyond this origin, no caching of case text."""
    if request.path.startswith("/api/"):
        return response
    nonce = g.get("csp_nonce", "")
    response.headers["Content-Security-Policy"] = (
        f"default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self'; img-src 'self' data:;"
        " font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self';"
        " frame-ancestors 'none'"
    )
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Content-Type-Options"] = "nosniff"
    if not request.path.startswith("/assets/"):
        response.headers["Cache-Control"] = "no-store"
    return response


TITLES = {404: "Page not found", 405: "Page not found", 413: "What you sent is too large"}


def error_page(error: HTTPException) -> Response | tuple[str, int, dict[str, str]]:
    """A page for people; the API's problem body under /api/."""
    if request.path.startswith("/api/"):
        from api.errors import problem_for_http_exception

        return problem_for_http_exception(error)
    status = error.code or 404
    headers = {name: value for name, value in error.get_headers() if name.lower() != "content-type"}  # Allow: ...
    return render_template("error.html", title=TITLES[status], status=status), status, headers
