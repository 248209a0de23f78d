"""Accord's HTTP API: `create_app` wires the blueprints onto a bootstrapped system."""

from __future__ import annotations

from typing import Any

from flask import Flask

from service.bootstrap import System, bootstrap
from service.settings import Settings


def create_app(settings: Settings | None = None, system: System | None = None) -> Flask:
    from api import (
        access_log,
        actions,
        audit,
        auth,
        consistency,
        content,
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
        text,
        timetravel,
    )
    from api.spec import make_api

    app = Flask(__name__)
    system = system or bootstrap(settings)
    app.extensions["accord"] = system
    app.config["MAX_CONTENT_LENGTH"] = system.settings.max_body_bytes
    api = make_api(app)
    errors.init_app(app)
    limits.init_app(app)
    auth.init_app(app)
    content.init_app(app)
    imports.init_app(app)  # Before anything reads a body: the import's own size limit.
    text.init_app(app)  # Before idempotency, which reads the body.
    consistency.init_app(app)
    idempotency.init_app(app)
    access_log.init_app(app)
    app.register_blueprint(health.blp)
    for module in (plans, actions, rollups, history, audit, timetravel, access_log, meetings, imports, reports):
        api.register_blueprint(module.blp)
    import web

    web.init_app(app)  # The pages for people: the same use cases and read models, behind a signed-in session.
    return app


def get_system(app: Any = None) -> System:
    from flask import current_app

    return (app or current_app).extensions["accord"]
