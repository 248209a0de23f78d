"""Accord's HTTP API: `create_app` wires the blueprints onto a bootstrapped system."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from flask import Flask, Response

from service.bootstrap import System, bootstrap
from service.settings import Settings


def create_app(settings: Settings | None = None, system: System | None = None) -> Flask:
    from api import (
        access_log,
        actions,
        audit,
        errors,
        health,
        history,
        idempotency,
        imports,
        limits,
        meetings,
        plans,
        reports,
        rollups,
        timetravel,
    )
    from api.edge import behind_edge
    from api.spec import make_api

    app = Flask(__name__)
    system = system or bootstrap(settings)
    app.extensions["accord"] = system
    app.config["MAX_CONTENT_LENGTH"] = system.settings.max_body_bytes
    api = make_api(app)
    errors.init_app(app)
    limits.init_app(app)
    idempotency.init_app(app)
    access_log.init_app(app)
    app.register_blueprint(health.blp)
    for module in (plans, actions, rollups, history, audit, timetravel, access_log, meetings, imports, reports):
        api.register_blueprint(behind_edge(module.blp))
    import web

    web.init_app(app)  # The pages for people: the same use cases and read models, behind a signed-in session.
    return app


def succeeded(response: Response) -> bool:
    return HTTPStatus.OK <= response.status_code < HTTPStatus.MULTIPLE_CHOICES


def refused(response: Response) -> bool:
    """A client error (4xx): the request was refused before anything was written."""
    return HTTPStatus.BAD_REQUEST <= response.status_code < HTTPStatus.INTERNAL_SERVER_ERROR


def get_system(app: Any = None) -> System:
    from flask import current_app

    return (app or current_app).extensions["accord"]
