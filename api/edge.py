"""The /api/v1 edge: the hooks that run around every API view, in the order below, registered on each API blueprint
(the health checks and the OpenAPI document are outside it).

Before the view (after the rate limit, which flask-limiter runs first, so a flood costs no token lookup):
authenticate the bearer token; raise the body limit for a plan file; refuse a write whose body is not JSON (after
authentication, so a caller without a token learns only that it needs one); refuse a JSON body nested too deep,
before any parser recurses into it; wait for `Accord-Min-Position`; claim the `Idempotency-Key`.
After the view, in the order they run: record an access-logged read; keep the response for idempotent replay;
say whether the read models had caught up. (The app itself marks every response `no-store`: api/limits.py.)
"""

from __future__ import annotations

from flask_smorest import Blueprint

from api import access_log, auth, consistency, content, idempotency, imports, text

BEFORE_REQUEST = (
    auth.authenticate,
    imports.allow_plan_files,  # Before anything reads the body: the import's own size limit.
    content.require_json,
    text.refuse_deep_json,  # Before any parser recurses into the body.
    consistency.wait_for_position,
    idempotency.claim_key,
)
AFTER_REQUEST = (access_log.record_read, idempotency.keep_response, consistency.say_whether_caught_up)
API_BLUEPRINTS: set[str] = set()  # The names of the blueprints behind the edge.


def behind_edge(blp: Blueprint) -> Blueprint:
    """The API blueprint with the edge's hooks on it (added once: a blueprint is shared by every app built)."""
    if blp.name not in API_BLUEPRINTS:
        for hook in BEFORE_REQUEST:
            blp.before_request(hook)
        for hook in reversed(AFTER_REQUEST):  # Flask runs after-request hooks last registered first.
            blp.after_request(hook)
        API_BLUEPRINTS.add(blp.name)
    return blp
