"""Whole-plan time travel on PostgreSQL: the temporal read model against the naive fold, in one run.

A plan of 300 actions with 50 updates each (15,000 updates, about 45,000 events), posted in ten
rounds so that recorded times interleave, with late reports (effective dates out of order) and some
retractions. For random (as_at, known_at) pairs: the read model's whole-plan view, and the naive
way (load every action's events and fold them), timed in turn; their answers must be identical.
"""

from __future__ import annotations

import random
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.common import COORDINATOR, fresh_schema, percentile, plan_with_actions, settings
from domain.action import Action
from domain.timeline import Fact, fold, initial_state, is_overdue
from service.bootstrap import bootstrap


def naive(app: Any, action_ids: list[Any], as_at: Any, known_at: datetime) -> dict[str, Any]:
    """Load each action's events and fold them: what the read model saves us from."""
    shown = {}
    for action_id in action_ids:
        events = list(app.events.get(action_id))
        raised = events[0]
        if raised.timestamp > known_at or raised.effective_date > as_at:
            continue
        facts: dict[str, Fact] = {}
        for e in events[1:]:
            if isinstance(e, Action.UpdateRetracted):
                facts[e.update_id].retracted, facts[e.update_id].retracted_at = True, e.timestamp
                continue
            fact = facts.setdefault(
                e.update_id,
                Fact(e.update_id, "update", e.originator_version, e.effective_date, e.actor["agency"], {}, e.timestamp),
            )
            for name in {"StatusChanged": ("status",), "RagRated": ("rag",), "ProgressReported": ("text",)}.get(
                type(e).__name__, ()
            ):
                fact.values["progress" if name == "text" else name] = getattr(e, name)
        initial = initial_state(
            start_date=raised.effective_date,
            lead_agency=raised.lead_agency,
            lead_person=raised.lead_person,
            contributing_agencies=raised.contributing_agencies,
            due_date=raised.due_date,
            due_label=raised.due_label,
        )
        state = fold(initial, facts.values(), as_at, known_at)
        last = state["last_update"]
        shown[str(action_id)] = (
            state["status"],
            state["rag"],
            is_overdue(state["due_date"], state["status"], as_at),
            last and (last["text"], last["effective_date"].isoformat()),
        )
    return shown


def run(actions: int = 300, updates: int = 50, samples: int = 200) -> dict[str, Any]:
    rng = random.Random(7)
    with fresh_schema() as database_url:
        system = bootstrap(settings(database_url), in_process=False)
        app = system.app
        made = plan_with_actions(app, actions)
        plan_id = app.get(Action, made[0][0]).plan_id
        today = app.today()
        posted: list[tuple[Any, str]] = []
        for round_ in range(10):
            for action_id, editor in made:
                action: Action = app.repository.get(action_id)
                for k in range(updates // 10):
                    n = round_ * (updates // 10) + k
                    late = rng.random() < 0.15  # A late report: took effect well before it was recorded.
                    effective = today - timedelta(days=(300 - 6 * n) + (rng.randint(5, 60) if late else 0))
                    update_id = str(uuid.uuid4())
                    action.post_update(
                        actor=editor,
                        update_id=update_id,
                        effective_date=effective,
                        today=today,
                        progress=f"update {n}",
                        rag=rng.choice(["red", "amber", "green"]),
                        status="in_progress",
                    )
                    posted.append((action_id, update_id))
                app.save(action)
        for action_id, update_id in rng.sample(posted, len(posted) // 50):
            action = app.repository.get(action_id)
            action.retract_update(actor=COORDINATOR, update_id=update_id, reason="entered in error")
            app.save(action)
        events = app.recorder.max_notification_id()
        start = time.perf_counter()
        system.projections.catch_up("temporal")
        projected = time.perf_counter() - start
        view = system.projections.view("temporal")
        first = min(e.timestamp for e in app.events.get(made[0][0]))
        last = datetime.now(UTC)
        ids = [a for a, _ in made]
        fast, slow = [], []
        for _ in range(samples):
            as_at = today - timedelta(days=rng.randint(0, 420))
            known_at = first + (last - first) * rng.random()
            t = time.perf_counter()
            plan = view.plan_status(str(plan_id), as_at, known_at)
            fast.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            expected = naive(app, ids, as_at, known_at)
            slow.append((time.perf_counter() - t) * 1000)
            got = {
                a["id"]: (
                    a["status"],
                    a["rag"],
                    a["overdue"],
                    a["last_update"] and (a["last_update"]["text"], a["last_update"]["effective_date"]),
                )
                for r in (plan or {"recommendations": []})["recommendations"]
                for a in r["actions"]
            }
            assert got == expected, f"read model and naive fold differ at as_at={as_at} known_at={known_at}"
        system.close()
    return {
        "events": events,
        "temporal_projection_seconds": round(projected, 1),
        "samples": samples,
        "read_model_p50_ms": round(percentile(fast, 50), 1),
        "read_model_p95_ms": round(percentile(fast, 95), 1),
        "naive_fold_p50_ms": round(percentile(slow, 50), 1),
        "naive_fold_p95_ms": round(percentile(slow, 95), 1),
        "speedup_p95": round(percentile(slow, 95) / percentile(fast, 95), 1),
    }
