"""Where the pages link to one another: the service navigation and each plan's own pages.

Pages built elsewhere join by adding a line here (a link is shown only when its endpoint is registered):
the committee report (`/plans/<plan_id>/report`), the plan's meetings (`/plans/<plan_id>/meetings`) and
uploading a plan (`/plans/import`, coordinators).
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, request, url_for

from domain.principals import COORDINATOR, INSPECTOR

# (text, endpoint, roles that see it or None for everyone)
SERVICE: list[tuple[str, str, tuple[str, ...] | None]] = [
    ("Home", "web_plans.home", None),
    ("Plans", "web_plans.plans", None),
    # ("Upload a plan", "<import endpoint>", (COORDINATOR,)),  # /plans/import, after merge.
    ("Access log", "web_access.log", (COORDINATOR, INSPECTOR)),
]
# (text, endpoint taking plan_id)
PLAN: list[tuple[str, str]] = [
    ("Board", "web_plans.board"),
    ("What changed", "web_plans.changes"),
    # ("Committee report", "<report endpoint>"),  # /plans/<plan_id>/report, after merge.
    # ("Meetings", "<meetings endpoint>"),  # /plans/<plan_id>/meetings, after merge.
]


def service_links(role: str) -> list[dict[str, Any]]:
    return [
        {"text": text, "href": url_for(endpoint), "active": request.endpoint == endpoint}
        for text, endpoint, roles in SERVICE
        if endpoint in current_app.view_functions and (roles is None or role in roles)
    ]


def plan_links(plan_id: str) -> list[dict[str, Any]]:
    return [
        {"text": text, "href": url_for(endpoint, plan_id=plan_id), "active": request.endpoint == endpoint}
        for text, endpoint in PLAN
        if endpoint in current_app.view_functions
    ]


def init_app(app: Flask) -> None:
    app.add_template_global(service_links)
    app.add_template_global(plan_links)
