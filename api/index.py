"""`/`: where a newcomer's first request lands, a short index of what this server offers (until pages exist)."""

from __future__ import annotations

from html import escape
from typing import Any

from flask import Blueprint, Response, request, url_for

blp = Blueprint("index", __name__)


def links() -> dict[str, dict[str, str]]:
    return {
        "openapi": {"href": "/api/v1/openapi.json", "title": "The API, described in OpenAPI 3"},
        "plans": {"href": "/api/v1/plans", "title": "The plans (with a bearer token: `accord users add`)"},
        "healthz": {"href": url_for("health.healthz"), "title": "Liveness"},
        "readyz": {"href": url_for("health.readyz"), "title": "Readiness: the store, Redis, the projections"},
        "metrics": {"href": url_for("health.metrics"), "title": "Prometheus metrics"},
    }


@blp.get("/")
def index() -> Any:
    """JSON for programs; a short HTML page for a browser."""
    about = "Safeguarding partnerships' joint action plans: every partner agency's update an immutable event."
    if request.accept_mimetypes.best_match(["application/json", "text/html"]) != "text/html":
        return {"name": "Accord", "description": about, "links": links()}
    items = "".join(
        f'<li><a href="{escape(link["href"])}">{escape(link["href"])}</a>: {escape(link["title"])}</li>'
        for link in links().values()
    )
    page = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Accord</title></head>'
        f"<body><h1>Accord</h1><p>{escape(about)}</p><ul>{items}</ul></body></html>\n"
    )
    return Response(page, mimetype="text/html")
