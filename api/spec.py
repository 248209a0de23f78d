"""The flask-smorest Api: OpenAPI document at /api/v1/openapi.json, errors as RFC 9457 problems."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_smorest import Api

from api.errors import problem_for_http_exception
from api.schemas import ProblemSchema


class AccordApi(Api):
    ERROR_SCHEMA = ProblemSchema
    DEFAULT_ERROR_RESPONSE_NAME = "Problem"

    def handle_http_exception(self, error: Any) -> Any:
        return problem_for_http_exception(error)


def make_api(app: Flask) -> AccordApi:
    app.config.update(
        API_TITLE="Accord",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
        API_SPEC_OPTIONS={
            "info": {
                "description": "Multi-agency safeguarding action plans: every update an immutable event.",
            },
            "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
            "security": [{"bearer": []}],
        },
    )
    return AccordApi(app)
