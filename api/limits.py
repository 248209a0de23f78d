"""Limits on what one caller can consume or leave behind: a rate limit per bearer token (flask-limiter, kept in
Redis when ACCORD_REDIS_URL is set, else in this process), and `Cache-Control: no-store` on every response (the API's
carry case text that no shared or browser cache should keep; health checks and the OpenAPI document must be fresh)."""

from __future__ import annotations

import hashlib
import math
import time

from flask import Flask, Response, current_app, request
from flask_limiter import Limiter, RateLimitExceeded
from limits import parse_many

from api import get_system
from api.errors import problem

OFF = ("off", "none", "0")
EXTENSION = "accord.limiter"


def caller() -> str:
    """Whom a request counts against: its bearer token (by hash: tokens never reach the limiter's storage),
    or its address when it has none."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return "token:" + hashlib.sha256(token.strip().encode()).hexdigest()[:32]
    return f"address:{request.remote_addr}"


def not_api() -> bool:
    from api.edge import API_BLUEPRINTS

    return request.blueprint not in API_BLUEPRINTS


def too_many(error: RateLimitExceeded) -> Response:
    limiter: Limiter = current_app.extensions[EXTENSION]
    current = limiter.current_limit
    wait = max(1, math.ceil(current.window.reset_time - time.time())) if current else 60
    return problem(
        429,
        "Too Many Requests",
        f"this token has used its rate limit ({error.description}); retry after {wait} seconds",
        headers={"Retry-After": str(wait)},
    )


def no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    """The limiter runs before every blueprint's hooks, so a flood is refused before it costs a token lookup."""
    settings = get_system(app).settings
    app.after_request(no_store)
    if settings.rate_limit.strip().lower() in OFF:
        return
    parse_many(settings.rate_limit)  # A wrong ACCORD_RATE_LIMIT fails at start, not on the first request.
    limiter = Limiter(
        caller,
        application_limits=[settings.rate_limit],  # One budget per token across every endpoint.
        application_limits_exempt_when=not_api,
        storage_uri=settings.redis_url or "memory://",
        key_prefix="accord-rate",
        strategy="fixed-window",
        # Should Redis fail, count in this process rather than fail every request; /readyz reports Redis.
        swallow_errors=True,
        in_memory_fallback_enabled=True,
    )
    limiter.init_app(app)
    app.extensions[EXTENSION] = limiter
    app.register_error_handler(RateLimitExceeded, too_many)
