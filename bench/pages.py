"""The plan board rendered server-side on PostgreSQL: a plan of 300 actions, today and as at a date.

Each request goes through the whole Flask app (session, page, template, headers; the as-at view also writes
its access-log row) with the test client, signed in as a coordinator; the time is the request's, end to end.
"""

from __future__ import annotations

import re
import time
from datetime import timedelta
from typing import Any
from uuid import UUID

from api import create_app
from bench.common import bulk_updates, fresh_schema, percentile, plan_with_actions, settings
from service.bootstrap import bootstrap

ACTIONS = 300
UPDATES = 10  # Per action: 3,000 updates, about 8,700 events.
REQUESTS = 200
PASSWORD = "bench board password 300"


def timed(client: Any, path: str, n: int) -> list[float]:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, response.status_code
    return times


def figures(times: list[float]) -> dict[str, float]:
    return {f"p{q}_ms": round(percentile(times, q), 1) for q in (50, 95, 99)} | {"max_ms": round(max(times), 1)}


def run() -> dict[str, Any]:
    with fresh_schema() as url:
        system = bootstrap(settings(url, secret_key="bench-" + "k" * 40))
        try:
            actions = plan_with_actions(system.app, ACTIONS)
            events = bulk_updates(system.app, actions, UPDATES)
            system.projections.catch_up_all()
            plan_id = system.current.get_action(str(actions[0][0]), system.app.today())["plan_id"]
            user_id, _ = system.app.invite_user(
                name="Bench coordinator", email="bench@example.org", agency="lscb", role="coordinator"
            )
            system.app.set_password(UUID(str(user_id)), PASSWORD)
            client = create_app(system=system).test_client()
            page = client.get("/sign-in").text
            csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
            signed_in = client.post(
                "/sign-in", data={"csrf_token": csrf, "email": "bench@example.org", "password": PASSWORD}
            )
            assert signed_in.status_code == 302
            as_at = (system.app.today() - timedelta(days=UPDATES // 2)).isoformat()
            timed(client, f"/plans/{plan_id}", 10)  # Warm up: templates compiled, caches filled.
            today = timed(client, f"/plans/{plan_id}", REQUESTS)
            past = timed(client, f"/plans/{plan_id}?as_at={as_at}", REQUESTS)
            size = len(client.get(f"/plans/{plan_id}").data)
        finally:
            system.close()
    return {
        "actions": ACTIONS,
        "events": events,
        "requests_each": REQUESTS,
        "page_bytes": size,
        "board_today": figures(today),
        "board_as_at": figures(past),
    }
